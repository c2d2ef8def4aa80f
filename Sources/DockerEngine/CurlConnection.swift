import CCurl
import Foundation
import X509

// How a curl handle reaches the engine (unix socket, TCP, TLS, ssh), and what a failure to
// reach it means in the user's terms. Shared by ordinary transfers and hijacked connections.
extension CurlTransport {
    /// Points `handle` at the engine for `path`: URL, socket, TLS material, timeouts.
    func configureConnection(_ handle: UnsafeMutableRawPointer, path: String) {
        let url: String
        switch connection.endpoint {
        case .unix(let socket):
            devenv_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)
            url = "http://localhost" + path
        case .tcp(let host, let port):
            let scheme = connection.tls == nil ? "http" : "https"
            url = "\(scheme)://\(EngineEndpoint.bracketed(host)):\(port)" + path
        case .ssh:
            devenv_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, relay?.socketPath ?? "/nonexistent")
            url = "http://localhost" + path
        }
        devenv_curl_setopt_string(handle, CURLOPT_URL, url)
        devenv_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        devenv_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        if let tls = connection.tls {
            if let ca = tls.caFile { devenv_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
            if let cert = tls.certFile { devenv_curl_setopt_string(handle, CURLOPT_SSLCERT, cert) }
            if let key = tls.keyFile { devenv_curl_setopt_string(handle, CURLOPT_SSLKEY, key) }
            devenv_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1 : 0)
            devenv_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2 : 0)
        }
    }

    /// The error for a transfer curl could not complete, naming the engine and the next step.
    func connectionError(_ code: CURLcode, detail: String, during request: HTTPRequest) -> DockerEngineError {
        let endpoint = connection.endpoint
        let what = "\(request.method) \(request.pathWithoutQuery)"
        if case .ssh(_, let host, _) = endpoint,
            [CURLE_COULDNT_CONNECT, CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR].contains(code)
        {
            let said = relay?.lastErrorLine ?? relayFailure
            let reason = said.map { " (ssh: \($0))" } ?? ""
            return DockerEngineError(
                .unreachable, "cannot reach docker engine at \(endpoint)\(reason)", underlying: detail,
                hint: "check that 'ssh \(host) docker version' works without a prompt")
        }
        if let tls = connection.tls, let error = tlsError(code, detail: detail, tls: tls) { return error }
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            return DockerEngineError(.unreachable, "cannot reach docker engine at \(endpoint)", underlying: detail)
        case CURLE_OPERATION_TIMEDOUT:
            let after = request.timeout.map { " after \(Int($0))s" } ?? ""
            return DockerEngineError(
                .timeout, "docker engine at \(endpoint) did not answer \(what)\(after)", underlying: detail)
        default:
            return DockerEngineError(
                .transport, "connection to docker engine at \(endpoint) failed during \(what): \(detail)",
                underlying: detail)
        }
    }

    /// TLS failures, told apart by curl's code and OpenSSL's alert text.
    private func tlsError(_ code: CURLcode, detail: String, tls: TLSSettings) -> DockerEngineError? {
        let endpoint = connection.endpoint
        let lower = detail.lowercased()
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION:
            return DockerEngineError(
                .tls,
                "docker engine at \(endpoint) presented a certificate that \(tls.caFile ?? "the system's CAs") does not vouch for; check \(tls.origin) (ca.pem) and the engine's address",
                underlying: detail)
        case CURLE_SSL_CACERT_BADFILE:
            return DockerEngineError(
                .tls, "cannot read the CA certificate \(tls.caFile ?? "?"); check \(tls.origin)", underlying: detail)
        case CURLE_SSL_CERTPROBLEM:
            return DockerEngineError(
                .tls,
                "cannot use the client certificate \(tls.certFile ?? "?") with \(tls.keyFile ?? "?"); check \(tls.origin)",
                underlying: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            if lower.contains("wrong version number") || lower.contains("packet length too long") {
                return DockerEngineError(
                    .tls,
                    "docker engine at \(endpoint) does not speak TLS there; unset DOCKER_TLS_VERIFY and DOCKER_TLS, or use the engine's TLS port (2376)",
                    underlying: detail)
            }
            guard lower.contains("alert") || lower.contains("certificate") || lower.contains("handshake") else {
                return nil
            }
            if tls.certFile == nil {
                return DockerEngineError(
                    .tls,
                    "docker engine at \(endpoint) wants a client certificate and \(tls.origin) has no cert.pem and key.pem; copy the client certificates there",
                    underlying: detail)
            }
            // The engine's alert rarely says why (Go's TLS sends "bad certificate" for all):
            // the certificate's own dates say whether it expired.
            let reason =
                tls.certFile.flatMap { Self.validityProblem(ofCertificateAt: $0) }
                ?? (lower.contains("unknown ca")
                    ? "not signed by a CA it trusts" : "not signed by a CA it trusts, or revoked")
            return DockerEngineError(
                .tls,
                "docker engine at \(endpoint) refused the client certificate \(tls.certFile ?? "") (\(reason)); renew cert.pem and key.pem in \(tls.origin)",
                underlying: detail)
        default:
            return nil
        }
    }

    /// "expired on 2020-01-02" or "not valid before …" for a PEM certificate, else nil.
    static func validityProblem(ofCertificateAt path: String, now: Date = Date()) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let certificate = try? Certificate(pemEncoded: text)
        else { return nil }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if certificate.notValidAfter < now { return "expired on \(day.string(from: certificate.notValidAfter))" }
        if certificate.notValidBefore > now {
            return "not valid before \(day.string(from: certificate.notValidBefore))"
        }
        return nil
    }
}
