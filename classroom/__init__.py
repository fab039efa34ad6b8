"""Serving cnnviz to a class: the replica launcher behind HAProxy, and a websocket student for load tests."""
