"""HTTP/1.1 client pieces of our own: a lean asyncio client (`client`) and client-side
Digest/Basic authentication (`digest`), for the simulator's devices and the ACS's connection
requests, where httpx's per-request cost dominated."""
