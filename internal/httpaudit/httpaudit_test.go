package httpaudit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestResponseRecordsTheFirstStatusAndEveryByte(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter)
		status int
		bytes  int64
	}{
		{"a body without a status is a 200", func(w http.ResponseWriter) { _, _ = w.Write([]byte("abc")); _, _ = w.Write([]byte("de")) }, 200, 5},
		{"an error", func(w http.ResponseWriter) { http.Error(w, "no", http.StatusConflict) }, 409, 3},
		{"nothing written", func(http.ResponseWriter) {}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := &Response{ResponseWriter: rec}
			tc.handle(r)
			if r.Status != tc.status || r.Bytes != tc.bytes || int64(rec.Body.Len()) != tc.bytes {
				t.Errorf("status %d, %d bytes (%d written); want %d, %d", r.Status, r.Bytes, rec.Body.Len(), tc.status, tc.bytes)
			}
		})
	}
}
