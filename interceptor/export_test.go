package interceptor

// SpanIDFor exposes the deterministic span id for tests.
var SpanIDFor = spanIDFor
