"""placeholder"""
from . import bp
