"""tenderwatch: UK public-sector tender opportunities, found early and explained.

This package holds the pieces every layer shares (configuration and errors) and the command line.
The work itself lives in the top-level packages spiders/, store/, scoring/, notify/ and web/, and in
scheduler.py.
"""

__version__ = "0.1.0"
