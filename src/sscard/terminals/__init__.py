"""Terminal-side programs (终端): card chips and readers."""
