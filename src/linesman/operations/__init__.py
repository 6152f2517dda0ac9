"""Remote operations on devices (reboot, resets, sync, reconf, firmware) and bulk jobs."""
