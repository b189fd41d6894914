"""What happened and who did it: register, login, logout and security events."""
