-- Prosody for Linesman's XMPP connection request tests (.ci/prosody): a private instance on
-- 127.0.0.1:15222 beside any system one, with its own data directory. No TLS: loopback
-- only, and SCRAM-SHA-1 logins never send a password in clear.
pidfile = "/tmp/linesman-prosody/prosody.pid"
data_path = "/tmp/linesman-prosody/data"
interfaces = { "127.0.0.1" }
c2s_ports = { 15222 }
c2s_direct_tls_ports = { }
s2s_ports = { }
admins = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix"; }
modules_disabled = { "s2s"; "tls"; }
c2s_require_encryption = false
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
storage = "internal"
log = {
	info = "/tmp/linesman-prosody/prosody.log";
	error = "/tmp/linesman-prosody/prosody.err";
}
VirtualHost "localhost"
