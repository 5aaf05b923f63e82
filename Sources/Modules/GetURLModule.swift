import Foundation
import Provisioner

/// Ansible's `get_url`: a file downloaded on the host (through curl, GNU wget or python3) into
/// `dest`, replaced only when the bytes differ. As in Ansible, an existing file is asked for with
/// `If-Modified-Since` unless `force`, a `checksum` that the file already has skips the download,
/// and a download is verified against the checksum before it replaces anything. The download goes
/// to a temporary file beside `dest` and is renamed into place, so `dest` is never half-written.
struct GetURLModule: Module {
    static let name = "get_url"
    static let summary = "Download a file over HTTP(S) on the host (curl, wget or python3)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("url", .string, required: true, doc: "http, https or ftp URL to download"),
        ArgumentSpec("dest", .path, required: true,
                     doc: "file to write; a directory: the name comes from Content-Disposition or the URL"),
        ArgumentSpec("force", .bool, default: false,
                     doc: "download every time (and replace when different); false asks only for a newer file (If-Modified-Since)"),
        ArgumentSpec("checksum", .string, default: "",
                     doc: "'ALGORITHM:HEX' or 'ALGORITHM:URL' of a checksum file (md5, sha1, sha224, sha256, sha384, sha512)"),
        ArgumentSpec("backup", .bool, default: false, doc: "keep the file replaced as DEST.PID.DATE@TIME~"),
        ArgumentSpec("timeout", .int, default: 10, doc: "seconds to wait on the connection and each read"),
        ArgumentSpec("headers", .dict, doc: "request headers"),
        ArgumentSpec("tmp_dest", .path, doc: "existing directory for the temporary download (default: beside dest)"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "false accepts any TLS certificate"),
        ArgumentSpec("http_agent", .string, default: "ansible-httpget", doc: "User-Agent header"),
        ArgumentSpec("use_proxy", .bool, default: true, doc: "false ignores the host's http_proxy/https_proxy"),
        ArgumentSpec("url_username", .string, aliases: ["username"], doc: "user for HTTP authentication"),
        ArgumentSpec("url_password", .string, aliases: ["password"], doc: "password for HTTP authentication"),
        ArgumentSpec("force_basic_auth", .bool, default: false, doc: "send Basic credentials before the server asks"),
    ] + FileAttributeArguments.specs

    static let algorithms = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]

    enum Checksum: Equatable {
        case none
        case digest(algorithm: String, hex: String)
        case file(algorithm: String, url: String)
    }

    let url: String
    let dest: String
    let force: Bool
    let checksum: Checksum
    let backup: Bool
    let tmpDest: String?
    let request: HTTPFetch.Request
    let attributes: FileAttributeArguments
    let arguments: ModuleArguments

    init(_ arguments: ModuleArguments) throws {
        self.arguments = arguments
        url = arguments.string("url") ?? ""
        dest = arguments.string("dest") ?? ""
        force = arguments.bool("force")
        backup = arguments.bool("backup")
        tmpDest = arguments.string("tmp_dest")
        attributes = FileAttributeArguments(arguments)
        checksum = try GetURLModule.parseChecksum(arguments.string("checksum") ?? "")
        request = try GetURLModule.request(arguments, url: url)
        if dest.isEmpty { throw ModuleError("dest must not be empty", argument: "dest") }
    }

    /// The request arguments get_url and uri share.
    static func request(_ arguments: ModuleArguments, url: String, method: String = "GET") throws -> HTTPFetch.Request {
        guard let scheme = URL(string: url)?.scheme?.lowercased(), ["http", "https", "ftp"].contains(scheme) else {
            throw ModuleError("'\(url)' is not an http, https or ftp URL", argument: "url")
        }
        var request = HTTPFetch.Request(method: method, url: url)
        for (name, value) in arguments.dict("headers") ?? ValueDict() {
            guard let text = value.string ?? (value.list == nil && value.dict == nil ? value.pythonText : nil) else {
                throw ModuleError("the value of header '\(name)' must be text", argument: "headers")
            }
            if name.contains(where: { $0 == "\n" || $0 == ":" }) || text.contains("\n") {
                throw ModuleError("header '\(name)' must be one line without ':' in its name", argument: "headers")
            }
            request.headers.append((name, text))
        }
        request.timeout = arguments.int("timeout") ?? 10
        request.validateCerts = arguments["validate_certs"].flatMap(ModuleArguments.boolean) ?? true
        request.agent = arguments.string("http_agent") ?? "ansible-httpget"
        request.useProxy = arguments["use_proxy"].flatMap(ModuleArguments.boolean) ?? true
        request.user = arguments.string("url_username")
        request.password = arguments.string("url_password")
        request.forceBasicAuth = arguments.bool("force_basic_auth")
        if request.timeout < 1 { throw ModuleError("timeout must be at least 1 second", argument: "timeout") }
        return request
    }

    static func parseChecksum(_ text: String) throws -> Checksum {
        guard !text.isEmpty else { return .none }
        guard let colon = text.firstIndex(of: ":") else {
            throw ModuleError("The checksum parameter has to be in format <algorithm>:<checksum>", argument: "checksum")
        }
        let algorithm = text[..<colon].lowercased(), value = String(text[text.index(after: colon)...])
        guard algorithms.contains(algorithm) else {
            throw ModuleError("checksum algorithm '\(algorithm)' is not one of \(algorithms.joined(separator: ", "))", argument: "checksum")
        }
        if let scheme = URL(string: value)?.scheme, ["http", "https", "ftp", "file"].contains(scheme) {
            if scheme == "file" { throw ModuleError("a file: checksum URL is not supported; give the digest or an http(s) URL", argument: "checksum") }
            return .file(algorithm: algorithm, url: value)
        }
        // As Ansible: anything but word characters goes (zero-width spaces pasted along), then it must be hex.
        let hex = value.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "_" }.map(String.init).joined().lowercased()
        guard !hex.isEmpty, hex.allSatisfy(\.isHexDigit) else { throw ModuleError("The checksum format is invalid", argument: "checksum") }
        return .digest(algorithm: algorithm, hex: hex)
    }

    // MARK: Observations

    var digestProbe: Observation? {
        guard case .digest(let algorithm, _) = checksum, !force else { return nil }
        return .command(["\(algorithm)sum", "--", dest])
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [HTTPFetch.probe, .target(path: dest)] + [digestProbe].compactMap { $0 } + attributes.observations()
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let current = observed.target(dest)
        let result = ValueDict([("dest", .string(dest)), ("url", .string(HTTPFetch.masked(url))), ("elapsed", 0)])
        // An existing file with the checksum asked for is kept; only its attributes converge.
        if let current, current.kind == .file, let probe = digestProbe, case .digest(_, let hex) = checksum,
           let output = observed.command(probe.argv), output.status == 0, output.stdout.split(separator: " ").first.map(String.init) == hex {
            let changes = try attributes.changes(dest, current, observed)
            let message = changes.isEmpty ? "file already exists" : "file already exists but file attributes changed"
            return Plan(changes: changes, result: result.merging(["msg": .string(message), "checksum_dest": .null, "checksum_src": .null]))
        }
        guard let tool = HTTPFetch.tool(observed) else { return .failed(HTTPFetch.missingTools) }
        let isDirectory = current?.kind == .directory
        var mismatch = false
        if case .digest = checksum, current?.kind == .file, !force { mismatch = true }
        // Unless forced, an existing file is downloaded again only when the server has a newer one.
        let modifiedSince = !force && !mismatch && current?.kind == .file ? current.map { HTTPFetch.httpDate($0.modified) } : nil
        let download = try downloadStep(tool, isDirectory: isDirectory, modifiedSince: modifiedSince, force: force || mismatch,
                                        checkMode: context.checkMode, result: result)
        let sumsURL: String, algorithm: String
        switch checksum {
        case .none: return Plan(result: result, steps: [download(nil)])
        case .digest(let known, let hex): return Plan(result: result, steps: [download((known, hex))])
        case .file(let named, let url): (algorithm, sumsURL) = (named, url)
        }
        var sums = request
        sums.url = sumsURL
        sums.method = "GET"
        let filename = GetURLModule.urlFilename(url)
        let fetch = HTTPFetch.fetchStep("fetch checksums \(HTTPFetch.masked(sumsURL))", tool: tool, request: sums) { fetched, _ in
            switch fetched {
            case .failure(let failure): return .failed(failure.message, result: result)
            case .success(let (response, body)):
                guard response.status == 200 else {
                    return .failed("Request failed", result: result.merging(["status_code": .int(response.status),
                                                                             "response": .string(response.reason)]))
                }
                let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingSuffix("\r")) }
                guard let digest = GetURLModule.digest(for: filename, in: lines.last == "" ? Array(lines.dropLast()) : lines) else {
                    return .failed("Unable to find a checksum for file '\(filename)' in '\(HTTPFetch.masked(sumsURL))'", result: result)
                }
                let hex = digest.filter { $0.isLetter || $0.isNumber || $0 == "_" }.lowercased()
                guard hex.allSatisfy(\.isHexDigit) else { return .failed("The checksum format is invalid", result: result) }
                return StepOutcome(next: [download((algorithm, hex))])
            }
        }
        return Plan(result: result, steps: [fetch])
    }

    /// Ansible's `url_filename`: the last segment of the URL's path, or index.html.
    static func urlFilename(_ url: String) -> String {
        let path = URLComponents(string: url)?.path ?? ""
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return name.isEmpty ? "index.html" : name
    }

    /// Ansible's `parse_digest_lines`: a lone digest, or GNU (`HEX  name`, `HEX *name`) or BSD
    /// (`SHA256 (name) = HEX`) lines; the first digest for `filename`.
    static func digest(for filename: String, in lines: [String]) -> String? {
        if lines.count == 1, lines[0].split(whereSeparator: \.isWhitespace).count == 1 { return lines[0].trimmingCharacters(in: .whitespaces) }
        for line in lines {
            if let open = line.range(of: " ("), let close = line.range(of: ") = ", options: .backwards), open.upperBound <= close.lowerBound,
               !line[..<open.lowerBound].contains(" ") {
                if String(line[open.upperBound..<close.lowerBound]) == filename { return String(line[close.upperBound...]) }
                continue
            }
            let fields = line.split(maxSplits: 1, whereSeparator: \.isWhitespace)
            guard fields.count == 2 else { continue }
            var path = Substring(fields[1].drop { $0.isWhitespace })
            if path.hasPrefix("*") { path = path.dropFirst() }
            while path.first == "." || path.first == "/" { path = path.dropFirst() }
            if path == filename { return String(fields[0]) }
        }
        return nil
    }

    /// The download step, once the digest to verify against is known (nil: none).
    func downloadStep(_ tool: HTTPFetch.Tool, isDirectory: Bool, modifiedSince: String?, force: Bool, checkMode: Bool,
                      result: ValueDict) throws -> @Sendable (_ digest: (algorithm: String, hex: String)?) -> HostStep {
        var asked = self.request
        // Check mode asks with HEAD, as Ansible does: nothing is downloaded.
        asked.method = checkMode ? "HEAD" : "GET"
        let request = asked
        let mode = try GetURLModule.modeText(arguments)
        let dest = self.dest, tmpDest = tmpDest ?? "", backup = backup, owner = attributes.owner ?? "", group = attributes.group ?? ""
        return { digest in
            let argv = ["/bin/sh", "-c", GetURLModule.script, "sh", tool.rawValue, dest, isDirectory ? "1" : "0", tmpDest,
                        digest?.algorithm ?? "", digest?.hex ?? "", force ? "1" : "0", modifiedSince ?? "", mode ?? "",
                        owner, group, backup ? "1" : "0", checkMode ? "1" : "0"]
            return HostStep("download \(HTTPFetch.masked(request.url)) to \(dest)",
                            command: Command(argv, environment: request.environment(hasBody: false)),
                            runsInCheckMode: true) { run in GetURLModule.interpret(run, requested: request.url, result: result) }
        }
    }

    static func interpret(_ run: StepRun, requested: String, result base: ValueDict) -> StepOutcome {
        let sections = HTTPFetch.Sections(run.output.stdout)
        var result = base
        result["elapsed"] = .int(run.elapsed)
        for key in ["dest", "checksum_src", "checksum_dest", "md5sum", "backup_file"] {
            if let value = sections.fields[key] { result[key] = .string(value) }
        }
        if result["checksum_src"] == nil { result["checksum_src"] = .null }
        if result["checksum_dest"] == nil { result["checksum_dest"] = .null }
        let response = HTTPFetch.parse(sections.meta, requested: requested)
        if let response {
            result["status_code"] = .int(response.status)
            result["msg"] = .string(HTTPFetch.message(response, bytes: Int(response.header("Content-Length") ?? "")))
        }
        if let stat = sections.fields["stat"]?.split(separator: " "), stat.count == 6 {
            result["mode"] = .string(FileMode.text(UInt32(stat[0], radix: 8) ?? 0))
            result["owner"] = .string(String(stat[1]))
            result["group"] = .string(String(stat[2]))
            result["uid"] = .int(Int(stat[3]) ?? -1)
            result["gid"] = .int(Int(stat[4]) ?? -1)
            result["size"] = .int(Int(stat[5]) ?? 0)
            result["state"] = "file"
        }
        if let failure = sections.fields["failure"] {
            if let response, failure == "Request failed" { result["response"] = .string(response.reason) }
            return .failed(failure, result: result)
        }
        guard run.output.status == 0, response != nil || sections.fields["exists"] != nil else {
            return .failed("get_url failed on the host (exit \(run.output.status)): \(run.output.stderr)", result: result)
        }
        if sections.fields["exists"] != nil { result["msg"] = "file already exists" }
        return StepOutcome(changed: sections.fields["changed"] == "1", result: result)
    }

    /// Arguments: TOOL DEST DEST_IS_DIR TMP_DEST ALGORITHM DIGEST FORCE IF_MODIFIED_SINCE MODE OWNER GROUP BACKUP CHECK;
    /// the request in PV_* variables. Prints `key<TAB>value` lines, then `@response` and the response.
    static let script = HTTPFetch.library + #"""
    tool=$1 dest=$2 isdir=$3 tmpdir=$4 alg=$5 sum=$6 force=$7 ims=$8 mode=$9 owner=${10} group=${11} backup=${12} check=${13}
    t=
    finish() {
      [ "$check" = 0 ] && [ -f "$dest" ] && printf 'stat\t%s\n' "$(stat -L -c '%a %U %G %u %g %s' -- "$dest")"
      if [ -n "$t" ]; then
        [ -s "$t/meta" ] && { printf '@response\n'; cat "$t/meta"; }
        rm -rf "$t"
      fi
      exit 0
    }
    fail() { printf 'failure\t%s\n' "$1"; finish; }
    attributes() {
      [ -z "$mode" ] || chmod -- "$mode" "$1" || fail "cannot set mode $mode on $1"
      if [ -n "$owner$group" ]; then chown -- "$owner${group:+:$group}" "$1" || fail "cannot set owner/group of $1"; fi
    }
    digest() { "${alg}sum" < "$1" | cut -d ' ' -f 1; }
    if [ -n "$sum" ] && [ "$force" = 0 ] && [ "$isdir" = 0 ] && [ -f "$dest" ]; then
      if [ "$(digest "$dest")" = "$sum" ]; then
        printf 'exists\t1\n'
        if [ "$check" = 0 ]; then
          before=$(stat -L -c '%a %u %g' -- "$dest"); attributes "$dest"
          [ "$before" = "$(stat -L -c '%a %u %g' -- "$dest")" ] || printf 'changed\t1\n'
        fi
        finish
      fi
      force=1
    fi
    if [ "$isdir" = 0 ]; then parent=$(dirname -- "$dest"); else parent=$dest; fi
    [ -d "$parent" ] || fail "Destination $parent does not exist"
    if [ "$check" = 1 ]; then where=${TMPDIR:-/tmp}
    elif [ -n "$tmpdir" ]; then
      [ -d "$tmpdir" ] || { [ -e "$tmpdir" ] && fail "$tmpdir is a file but should be a directory."; fail "$tmpdir directory does not exist."; }
      where=$tmpdir
    else where=$parent
    fi
    t=$(mktemp -d "$where/.provision-get_url.XXXXXX") || fail "Destination $where is not writable"
    if [ "$force" = 1 ]; then PV_HEADERS="$PV_HEADERS
    Cache-Control: no-cache"
    elif [ -n "$ims" ]; then PV_HEADERS="$PV_HEADERS
    If-Modified-Since: $ims"
    fi
    export PV_HEADERS
    provision_fetch "$tool" "" "$t/body" "$t/meta" 2> "$t/err" || fail "$(tr '\n' ' ' < "$t/err")"
    status=$(awk '/^HTTP\//{s=$2} END{print s}' "$t/meta")
    [ "$status" = 304 ] && finish
    [ "$status" = 200 ] || fail "Request failed"
    if [ "$isdir" = 1 ]; then
      dest=${dest%/}/$(provision_name "$t/meta")
      printf 'dest\t%s\n' "$dest"
    fi
    src_sum=$(sha1sum < "$t/body" | cut -c 1-40)
    if [ "$check" = 1 ]; then
      # As Ansible in check mode: compared with what HEAD brought (nothing).
      [ -f "$dest" ] && [ "$(sha1sum < "$dest" | cut -c 1-40)" = "$src_sum" ] || printf 'changed\t1\n'
      finish
    fi
    if [ -n "$sum" ]; then
      got=$(digest "$t/body")
      [ "$got" = "$sum" ] || fail "The checksum for $t/body did not match $sum; it was $got."
    fi
    printf 'checksum_src\t%s\n' "$src_sum"
    if [ -e "$dest" ]; then
      [ -w "$dest" ] || fail "Destination $dest is not writable"
      printf 'checksum_dest\t%s\n' "$(sha1sum < "$dest" | cut -c 1-40)"
    fi
    if [ -f "$dest" ] && cmp -s "$t/body" "$dest"; then
      before=$(stat -L -c '%a %u %g' -- "$dest"); attributes "$dest"
      [ "$before" = "$(stat -L -c '%a %u %g' -- "$dest")" ] || printf 'changed\t1\n'
    else
      if [ -e "$dest" ]; then
        if [ "$backup" = 1 ]; then
          b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
          cp -p -- "$dest" "$b" || fail "Could not make backup of $dest to $b"
          printf 'backup_file\t%s\n' "$b"
        fi
        chmod "$(stat -L -c %a -- "$dest")" "$t/body"; chown "$(stat -L -c %u:%g -- "$dest")" "$t/body" 2>/dev/null
      else
        chmod "$(printf '%o' $(( 0666 & ~$(umask) )))" "$t/body"
      fi
      attributes "$t/body"
      sync "$t/body" 2>/dev/null
      mv -f -- "$t/body" "$dest" || fail "failed to copy $t/body to $dest"
      printf 'changed\t1\n'
    fi
    printf 'md5sum\t%s\n' "$(md5sum < "$dest" | cut -c 1-32)"
    finish
    """#
}

extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring { hasSuffix(suffix) ? dropLast(suffix.count) : self }
}
