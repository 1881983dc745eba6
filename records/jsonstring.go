package records

// AppendJSONString appends s as encoding/json writes a string (see
// appendJSONString), for callers that write many small JSON objects fast.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }
