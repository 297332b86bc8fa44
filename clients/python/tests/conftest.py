"""Tests import the client from this checkout (clients/python), installed or not."""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
