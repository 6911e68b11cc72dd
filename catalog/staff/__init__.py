"""Staff accounts kept by managers: roles, active flags, passwords."""
