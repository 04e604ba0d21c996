"""The demo story and the data it runs on (real UCI digits, drawn shapes)."""
