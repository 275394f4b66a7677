"""The CLI front door: the parser, one module per verb group, and the helpers front ends' option hooks use."""
