package diagnostics

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/internal/httpaudit"
)

// reasonFor names a sidecar's refusal as the API server names its own.
func reasonFor(code int) metav1.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusConflict:
		return metav1.StatusReasonConflict
	case http.StatusTooManyRequests:
		return metav1.StatusReasonTooManyRequests
	case http.StatusGatewayTimeout:
		return metav1.StatusReasonTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	}
	return metav1.StatusReasonInternalError
}

// denial is the reason an authorizer gave, or its error.
func denial(reason string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", reason, err)
	}
	if reason == "" {
		reason = "RBAC grants no get on it"
	}
	return errors.New(reason)
}

// writeStatus writes status as the API server writes errors, so kubectl
// shows its message.
func writeStatus(w *httpaudit.Response, status apierrors.APIStatus) {
	st := status.Status()
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	w.Reason = st.Message
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}
