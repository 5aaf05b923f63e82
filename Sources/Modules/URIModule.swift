import Foundation
import Provisioner

/// Ansible's `uri`: one HTTP request made on the host (curl, GNU wget or python3), its status
/// checked against `status_code`, its headers, content and JSON returned. Never `changed`,
/// except when it writes `dest`. Like Ansible's, it does not run in check mode: a request may
/// change what it talks to.
struct URIModule: Module {
    static let name = "uri"
    static let summary = "Make an HTTP request on the host and return its status, headers and content"
    static let supportsCheckMode = false
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("url", .string, required: true, doc: "http or https URL"),
        ArgumentSpec("method", .string, default: "GET", doc: "HTTP method, one upper-case word (GET, POST, PUT, DELETE, ...)"),
        ArgumentSpec("body", .raw, doc: "request body: text, or data turned into JSON or a form by body_format"),
        ArgumentSpec("body_format", .string, default: "raw", choices: ["raw", "json", "form-urlencoded"],
                     doc: "json: data as JSON (Content-Type application/json); form-urlencoded: a mapping as a form; raw: text as is"),
        ArgumentSpec("src", .path, doc: "file whose bytes are the body (on the controller, or on the host with remote_src)"),
        ArgumentSpec("remote_src", .bool, default: false, doc: "src is a file on the host"),
        ArgumentSpec("status_code", .list, default: [200], doc: "status codes that mean success"),
        ArgumentSpec("return_content", .bool, default: false, doc: "return the body as 'content' (JSON bodies are parsed into 'json' anyway)"),
        ArgumentSpec("headers", .dict, default: [:], doc: "request headers"),
        ArgumentSpec("dest", .path, doc: "write the body to this file (or into this directory); then the task is changed"),
        ArgumentSpec("follow_redirects", .string, default: "safe", choices: ["all", "no", "none", "safe", "urllib2", "yes"],
                     doc: "safe (and urllib2): follow redirects of GET and HEAD only; all; none"),
        ArgumentSpec("timeout", .int, default: 30, doc: "seconds to wait on the connection and each read"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "false accepts any TLS certificate"),
        ArgumentSpec("url_username", .string, aliases: ["user"], doc: "user for HTTP authentication"),
        ArgumentSpec("url_password", .string, aliases: ["password"], doc: "password for HTTP authentication"),
        ArgumentSpec("force_basic_auth", .bool, default: false, doc: "send Basic credentials before the server asks"),
        ArgumentSpec("http_agent", .string, default: "ansible-httpget", doc: "User-Agent header"),
        ArgumentSpec("use_proxy", .bool, default: true, doc: "false ignores the host's http_proxy/https_proxy"),
        ArgumentSpec("force", .bool, default: false, doc: "ask caches not to answer (Cache-Control: no-cache)"),
        ArgumentSpec("unix_socket", .path, doc: "talk HTTP over this unix socket (curl or python3 on the host)"),
        ArgumentSpec("creates", .path, doc: "when this path exists, no request is made"),
        ArgumentSpec("removes", .path, doc: "when this path does not exist, no request is made"),
    ] + FileAttributeArguments.specs

    let request: HTTPFetch.Request
    let body: [UInt8]?
    let src: String?
    let remoteSource: Bool
    let statusCodes: [Int]
    let returnContent: Bool
    let dest: String?
    let creates: String?
    let removes: String?
    let mode: String?
    let attributes: FileAttributeArguments

    init(_ arguments: ModuleArguments) throws {
        let method = (arguments.string("method") ?? "GET").uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }),
              (arguments.string("method") ?? "GET").allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ModuleError("Parameter 'method' needs to be a single word in uppercase, like GET or POST.", argument: "method")
        }
        let url = arguments.string("url") ?? ""
        var request = try GetURLModule.request(arguments, url: url, method: method)
        request.followRedirects = HTTPFetch.follows(arguments.string("follow_redirects") ?? "safe", method: method)
        request.unixSocket = arguments.string("unix_socket")
        if arguments.bool("force") { request.headers.append(("Cache-Control", "no-cache")) }
        let format = arguments.string("body_format") ?? "raw"
        let hasContentType = request.headers.contains { $0.name.lowercased() == "content-type" }
        switch (arguments["body"], format) {
        case (nil, _):
            body = nil
        case (.string(let text)?, _):
            body = Array(text.utf8)
        case (let data?, "json"):
            body = Array(data.pythonJSON.utf8)
        case (.dict(let fields)?, "form-urlencoded"):
            body = Array(URIModule.formEncoded(fields).utf8)
        case (.list(let pairs)?, "form-urlencoded"):
            var fields = ValueDict()
            for pair in pairs {
                guard let items = pair.list, items.count == 2, let key = items[0].string else {
                    throw ModuleError("failed to parse body as form_urlencoded: a list must hold [name, value] pairs", argument: "body")
                }
                fields[key] = items[1]
            }
            body = Array(URIModule.formEncoded(fields).utf8)
        case (let other?, _):
            throw ModuleError("a \(format) body must be text, not \(other.typeName); use body_format: json for data", argument: "body")
        }
        if body != nil && !hasContentType {
            if format == "json" { request.headers.append(("Content-Type", "application/json")) }
            if format == "form-urlencoded" { request.headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        }
        self.request = request
        src = arguments.string("src")
        remoteSource = arguments.bool("remote_src")
        if src != nil && arguments["body"] != nil { throw ModuleError("parameters are mutually exclusive: body|src", argument: "src") }
        statusCodes = try (arguments.list("status_code") ?? [200]).map { value in
            guard let code = value.string.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) ?? { if case .int(let i) = value { return i } else { return nil } }() else {
                throw ModuleError("status_code must list numbers, not \(value.pythonText)", argument: "status_code")
            }
            return code
        }
        returnContent = arguments.bool("return_content")
        dest = arguments.string("dest")
        creates = arguments.string("creates")
        removes = arguments.string("removes")
        attributes = FileAttributeArguments(arguments)
        mode = try GetURLModule.modeText(arguments)
        if dest == nil && !attributes.isEmpty { throw ModuleError("mode, owner and group apply to dest only", argument: "mode") }
    }

    /// Python's `urlencode` with `quote_plus`, as Ansible's `form_urlencoded`: lists repeat the name.
    static func formEncoded(_ fields: ValueDict) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(.init(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "_.-~ ")
        func quote(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: " ", with: "+")
        }
        return fields.flatMap { key, value -> [String] in
            (value.list ?? [value]).map { "\(quote(key))=\(quote($0.string ?? $0.pythonText))" }
        }.joined(separator: "&")
    }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] {
        guard let src, !remoteSource else { return [] }
        return [(src, .file)]
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted = [HTTPFetch.probe] + [creates, removes].compactMap { $0 }.map { Observation.file(path: $0, content: false) }
        if let dest { wanted.append(.target(path: dest)) }
        return wanted + attributes.observations()
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        if let creates, observed.file(creates) != nil {
            return Plan(result: ["stdout": .string("skipped, since '\(creates)' exists"), "msg": .string("skipped, since '\(creates)' exists")])
        }
        if let removes, observed.file(removes) == nil {
            return Plan(result: ["stdout": .string("skipped, since '\(removes)' does not exist"),
                                 "msg": .string("skipped, since '\(removes)' does not exist")])
        }
        guard let tool = HTTPFetch.tool(observed) else { return .failed(HTTPFetch.missingTools) }
        var request = self.request
        var stdin = body
        if let src, !remoteSource { stdin = try context.readControllerFile(src, .file) }
        // As Ansible: an existing dest is asked for only when the server has a newer one.
        let target = dest.flatMap { observed.target($0) }
        if let target, target.kind == .file { request.headers.append(("If-Modified-Since", HTTPFetch.httpDate(target.modified))) }
        let argv = ["/bin/sh", "-c", URIModule.script, "sh", tool.rawValue, dest ?? "", target?.kind == .directory ? "1" : "0",
                    statusCodes.map(String.init).joined(separator: " "), remoteSource ? (src ?? "") : "",
                    dest == nil || returnContent ? "1" : "0", mode ?? "", attributes.owner ?? "", attributes.group ?? ""]
        let asked = request, statusCodes = self.statusCodes, returnContent = self.returnContent
        let step = HostStep("\(request.method) \(HTTPFetch.masked(request.url))",
                            command: Command(argv, environment: request.environment(hasBody: stdin != nil), stdin: stdin)) { run in
            URIModule.interpret(run, request: asked, statusCodes: statusCodes, returnContent: returnContent)
        }
        return Plan(steps: [step])
    }

    static func interpret(_ run: StepRun, request: HTTPFetch.Request, statusCodes: [Int], returnContent: Bool) -> StepOutcome {
        let sections = HTTPFetch.Sections(run.output.stdout)
        var result: ValueDict = ["elapsed": .int(run.elapsed), "url": .string(HTTPFetch.masked(request.url))]
        if let failure = sections.fields["failure"] { return .failed(failure, result: result.merging(["status": -1])) }
        guard let response = HTTPFetch.parse(sections.meta, requested: request.url) else {
            return .failed("uri failed on the host (exit \(run.output.status)): \(run.output.stderr)", result: result.merging(["status": -1]))
        }
        result = result.merging(response.headerFields)
        result["redirected"] = .bool(response.redirected)
        result["url"] = .string(HTTPFetch.masked(response.url))
        result["status"] = .int(response.status)
        result["msg"] = .string(HTTPFetch.message(response, bytes: Int(sections.fields["size"] ?? "")))
        if let location = response.header("Location") {
            result["location"] = .string(URL(string: location, relativeTo: URL(string: response.url))?.absoluteString ?? location)
        }
        let cookies = response.headers.filter { $0.name.lowercased() == "set-cookie" }.compactMap { header -> (String, String)? in
            let pair = header.value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            return (String(pair[..<eq]).trimmingCharacters(in: .whitespaces), String(pair[pair.index(after: eq)...]))
        }
        result["cookies"] = .dict(ValueDict(cookies.map { ($0.0, .string($0.1)) }))
        result["cookies_string"] = .string(cookies.map { "\($0.0)=\($0.1)" }.joined(separator: "; "))
        if let path = sections.fields["path"] { result["path"] = .string(path) }
        let content = sections.body
        let subtype = (response.header("Content-Type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }?
            .split(separator: "/").last.map { String($0).lowercased() } ?? ""
        let suffix = subtype.split(separator: "+").last.map(String.init) ?? subtype
        if let content, ["json", "javascript"].contains(suffix), let json = try? Value.parsingJSON(content) { result["json"] = json }
        if returnContent { result["content"] = content.map(Value.string) ?? "" }
        guard statusCodes.contains(response.status) else {
            let codes = "[" + statusCodes.map(String.init).joined(separator: ", ") + "]"
            let message = "Status code was \(response.status) and not \(codes): \(result["msg"]?.string ?? "")"
            return .failed(message, result: result)
        }
        return StepOutcome(changed: sections.fields["written"] == "1", result: result)
    }

    /// Arguments: TOOL DEST DEST_IS_DIR STATUS_CODES REMOTE_SRC SHOW_BODY MODE OWNER GROUP; the request in
    /// PV_* variables, its body (if any) on stdin. `dest` is written only for a listed status (not 304).
    static let script = HTTPFetch.library + #"""
    tool=$1 dest=$2 isdir=$3 codes=$4 src=$5 show=$6 mode=$7 owner=$8 group=$9
    t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-uri.XXXXXX") || { printf 'failure\tcannot create a temporary folder\n'; exit 0; }
    trap 'rm -rf "$t"' EXIT
    fail() { printf 'failure\t%s\n' "$1"; exit 0; }
    body=
    if [ "$PV_BODY" = 1 ]; then cat > "$t/request"; body=$t/request; fi
    if [ -n "$src" ]; then [ -r "$src" ] || fail "Unable to open source file $src"; body=$src; fi
    provision_fetch "$tool" "$body" "$t/body" "$t/meta" 2> "$t/err" || fail "$(tr '\n' ' ' < "$t/err")"
    status=$(awk '/^HTTP\//{s=$2} END{print s}' "$t/meta")
    printf 'size\t%s\n' "$(wc -c < "$t/body")"
    if [ -n "$dest" ]; then
      final=$dest
      if [ "$isdir" = 1 ]; then
        final=${dest%/}/$(provision_name "$t/meta")
      fi
      case " $codes " in *" $status "*) wanted=1 ;; *) wanted=0 ;; esac
      if [ "$wanted" = 1 ] && [ "$status" != 304 ]; then
        part=$(mktemp "$(dirname -- "$final")/.provision-uri.XXXXXX") || fail "Destination $(dirname -- "$final") is not writable"
        cat "$t/body" > "$part"
        if [ -e "$final" ]; then chmod "$(stat -L -c %a -- "$final")" "$part"; chown "$(stat -L -c %u:%g -- "$final")" "$part" 2>/dev/null
        else chmod "$(printf '%o' $(( 0666 & ~$(umask) )))" "$part"; fi
        [ -z "$mode" ] || chmod -- "$mode" "$part" || { rm -f "$part"; fail "cannot set mode $mode"; }
        if [ -n "$owner$group" ]; then chown -- "$owner${group:+:$group}" "$part" || { rm -f "$part"; fail "cannot set owner/group"; }; fi
        sync "$part" 2>/dev/null
        mv -f -- "$part" "$final" || { rm -f "$part"; fail "failed to write $final"; }
        printf 'written\t1\n'
      fi
      printf 'path\t%s\n' "$final"
    fi
    printf '@response\n'; cat "$t/meta"
    if [ "$show" = 1 ]; then printf '\n@body\n'; cat "$t/body"; fi
    """#
}

extension GetURLModule {
    /// A mode argument as chmod reads it (octal digits or symbolic).
    static func modeText(_ arguments: ModuleArguments) throws -> String? {
        switch arguments["mode"] {
        case .int(let bits)?: return FileMode.text(UInt32(bits))
        case .string(let text)?:
            if text == "preserve" { throw ModuleError("mode 'preserve' is only meaningful for copy and template sources", argument: "mode") }
            return FileMode.parse(text).map(FileMode.text) ?? text
        default: return nil
        }
    }
}
