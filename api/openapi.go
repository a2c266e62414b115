package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route; TestOpenAPIMatchesRoutes keeps it
// and the route table in step.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
}
