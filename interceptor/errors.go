package interceptor

import (
	"errors"
	"fmt"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	v2 "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// benign reports whether err ends an operation without being a failure worth an error
// flag: cancellations (requested by someone), continue-as-new (a normal way to end a
// run), an activity that completes asynchronously, and application errors the author
// marked benign.
func benign(err error) bool {
	if temporal.IsCanceledError(err) || workflow.IsContinueAsNewError(err) || errors.Is(err, activity.ErrResultPending) {
		return true
	}
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Category() == temporal.ApplicationErrorCategoryBenign
}

// errorType names err for the error.type tag: the type of an application error (what
// the author chose, e.g. "InsufficientFunds"), else the Go type of the error Temporal
// reports, e.g. "*temporal.TimeoutError".
func errorType(err error) string {
	var (
		appErr     *temporal.ApplicationError
		timeoutErr *temporal.TimeoutError
		panicErr   *temporal.PanicError
	)
	switch {
	case errors.As(err, &appErr) && appErr.Type() != "":
		return appErr.Type()
	case errors.As(err, &timeoutErr):
		return fmt.Sprintf("%T", timeoutErr)
	case errors.As(err, &panicErr):
		return fmt.Sprintf("%T", panicErr)
	}
	return fmt.Sprintf("%T", err)
}

// tagError is the default OnFinish: error flag, type and message for failures. There is
// no stack: the interceptor's own stack says nothing about where the failure happened.
func tagError(span *v2.Span, err error) {
	if err == nil || benign(err) {
		return
	}
	span.SetTag(ext.Error, true)
	span.SetTag(ext.ErrorType, errorType(err))
	span.SetTag(ext.ErrorMsg, err.Error())
}
