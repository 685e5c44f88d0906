"""Access: who is calling (keys, JWT), what their role may see (policy enforcement), and the audit log."""
