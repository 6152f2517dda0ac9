"""Connection profiles: how the devices of a type are reached (connection-request methods
in order), observed (metrics interval, log level) and kept (log retention). A device type
points at one; `services` gives the values the platform uses, with the defaults where the
profile sets nothing."""
