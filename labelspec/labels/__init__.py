"""Labels: import (stage, validate, write), history, export and verify."""
