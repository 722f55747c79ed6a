"""The fleet: device identities (passwords or X.509), the broker's files, kiosk bundles,
and the configuration the hub pushes to each kiosk."""
