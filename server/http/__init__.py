"""HTTP only: the route table, one module of handlers per resource, middleware, request bodies, replies and
the OpenAPI description. Handlers parse input, call one domain function and shape the reply."""
