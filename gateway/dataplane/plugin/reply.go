package plugin

import (
	"encoding/json"
	"strconv"
)

// ContentTypeText is APISIX's default_type for the bodies it writes itself.
const ContentTypeText = "text/plain; charset=utf-8"

// JSONReply is core.response.exit(code, {key = msg}): the JSON object and a newline.
func JSONReply(status int, key, msg string) *Reply {
	b, _ := json.Marshal(map[string]string{key: msg})
	return &Reply{Status: status, Body: append(b, '\n'), ContentType: ContentTypeText}
}

// statusText are nginx's reason phrases, as its error pages show them.
var statusText = map[int]string{
	400: "400 Bad Request", 401: "401 Authorization Required", 403: "403 Forbidden",
	404: "404 Not Found", 405: "405 Not Allowed", 413: "413 Request Entity Too Large",
	429: "429 Too Many Requests", 500: "500 Internal Server Error", 502: "502 Bad Gateway",
	503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out",
}

// ErrorPage is the page nginx (and so APISIX) answers a bare status with.
func ErrorPage(status int) []byte {
	t, ok := statusText[status]
	if !ok {
		t = strconv.Itoa(status)
	}
	body := "<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t + "</h1></center>\r\n"
	if status == 500 {
		body += "<hr><center>openresty</center>\r\n<p><em>Powered by <a href=\"https://apisix.apache.org/\">APISIX</a>.</em></p></body>\r\n</html>\r\n"
	} else {
		body += "<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
	}
	return []byte(body)
}

// StatusReply is core.response.exit(code) without a body: nginx's error page.
func StatusReply(status int) *Reply {
	return &Reply{Status: status, Body: ErrorPage(status), ContentType: "text/html; charset=utf-8"}
}
