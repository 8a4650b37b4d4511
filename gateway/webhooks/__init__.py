"""Signed webhooks (签名回调) for feed subscribers such as the e-supervision service (电子监察).

A subscription names a feed stream, the feed's filter and a target URL. The deliverer, a
background task of the gateway process, posts the matching events to the target in log order,
signed by the gateway (RFC 9421), and saves the subscription's position only once the receiver
answered 2xx: delivery is at least once, in order per key, and survives a restart.
"""
