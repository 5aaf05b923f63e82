"""Health probe for the compose healthchecks: exits 0 when URL answers 200."""
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # any failure is "unhealthy"
    print(error, file=sys.stderr)
    sys.exit(1)
