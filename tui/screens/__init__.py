"""The wizard's screens, one module each, in the order the user meets them."""
