// Package lint holds tests over the module's source: every exported identifier of the
// public packages has a doc comment; no non-test line is over 140 characters and no
// non-test function over 60 lines (examples aside); codec exports at most 45 names.
package lint
