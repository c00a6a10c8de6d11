# A DICOMweb server that answers badly, for the refusal tests: QIDO-RS with something
# that is not DICOM JSON, WADO-RS with a multipart body cut off inside a part (study
# 1.2.3) or a connection closed half way through its declared length (study 1.2.4).
# Prints its port on the first line of stdout, then serves until killed.
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/dicom-web/studies?") or self.path == "/dicom-web/studies":
            body = b'[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}'  # cut short: not JSON
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/dicom-web/studies/1.2.3"):
            body = b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + b"\0" * 200  # no closing delimiter
            self.send_response(200)
            self.send_header("Content-Type", 'multipart/related; type="application/dicom"; boundary=XYZ')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/dicom-web/studies/1.2.4"):
            self.send_response(200)
            self.send_header("Content-Type", 'multipart/related; type="application/dicom"; boundary=XYZ')
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + b"\0" * 100)
            self.wfile.flush()
            self.connection.shutdown(2)
        else:
            self.send_response(404)
            self.end_headers()


server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
