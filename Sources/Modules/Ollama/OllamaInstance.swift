import Foundation
import Provisioner

/// How provision talks to an Ollama server running in a podman container, with nothing on the host but
/// podman and sh: its models are read with `GET /api/tags` over its published port (bash's /dev/tcp, when
/// the host has bash: a few milliseconds) or through the container's own CLI (`podman exec INSTANCE ollama
/// list`, which makes the same request inside); pulls run the container's `ollama pull` (POST /api/pull);
/// imports write the model store inside the container with its own `sh`.
enum OllamaInstance {
    /// Runs "$@" as user $1 (PodmanScope's runner, as a function).
    static let asUser = "as_user() (\n\(PodmanScope.runnerScript)\n)\n"

    // MARK: The listing (one per instance, shared by its tasks)

    /// Arguments: INSTANCE ADDRESS PORT USER (PORT and USER may be empty). Prints `api` and the HTTP
    /// response, or `nopodman`, `nouser`, or `exec STATUS` and what `ollama list` printed.
    static let listingScript = asUser + #"""
    inst=$1 addr=$2 port=$3 user=$4
    if [ -n "$port" ] && command -v bash >/dev/null 2>&1; then
      # One bash asks the API (read's own timeout, no cat): every converged run pays these processes.
      # timeout(1) only where connecting could hang; the host's own loopback answers or refuses at once.
      t=; case $addr in 127.*|localhost|::1) ;; *) command -v timeout >/dev/null 2>&1 && t="timeout 10" ;; esac
      $t bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET /api/tags HTTP/1.0\r\nHost: %s:%s\r\nAccept: application/json\r\n\r\n" "$1" "$2" >&3
        IFS= read -r -d "" -t 10 out <&3; [ $? -gt 128 ] && exit 1
        case $out in "HTTP/1."?" 200"*) printf "api\n%s\n" "$out"; exit 0 ;; esac
        exit 1' tags "$addr" "$port" 2>/dev/null && exit 0
    fi
    command -v podman >/dev/null 2>&1 || { echo nopodman; exit 0; }
    export PODMAN_IGNORE_CGROUPSV1_WARNING=1
    if [ -n "$user" ]; then
      id -u -- "$user" >/dev/null 2>&1 || { echo nouser; exit 0; }
      out=$(as_user "$user" podman exec "$inst" ollama list 2>&1)
    else
      out=$(podman exec "$inst" ollama list 2>&1)
    fi
    echo "exec $?"
    printf '%s\n' "$out"
    """#

    static func listing(_ instance: String, address: String, port: Int?, scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", listingScript, "ollama-models", instance, address, port.map(String.init) ?? "", scope.user ?? ""])
    }

    /// A model the instance lists: its name and manifest digest (all 64 hex digits from the API, the first
    /// 12 from `ollama list`).
    struct Listed: Equatable, Sendable {
        var name: OllamaModelName
        var digest: String
        var size: Int?
    }

    enum State: Equatable, Sendable {
        case answering([Listed])
        case podmanMissing
        case userMissing
        /// No such container.
        case absent(String)
        /// The container exists but does not answer (stopped, starting, or its server is down).
        case down(String)
        /// Something else went wrong (podman's own words).
        case failed(String)
    }

    static func parseListing(_ output: CommandOutput?) -> State {
        guard let output, output.status == 0 else {
            return .failed("the model listing did not run: \(output.map { $0.stderr.isEmpty ? $0.stdout : $0.stderr } ?? "no answer")")
        }
        var lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first else { return .failed("the model listing printed nothing") }
        lines.removeFirst()
        switch first {
        case "nopodman": return .podmanMissing
        case "nouser": return .userMissing
        case "api": return parseTags(lines.joined(separator: "\n"))
        default:
            guard first.hasPrefix("exec "), let status = Int(first.dropFirst(5)) else {
                return .failed("the model listing printed: \(output.stdout.prefix(200))")
            }
            let text = lines.filter { !$0.contains("level=warning") && !$0.isEmpty }.joined(separator: "\n")
            return status == 0 ? .answering(parseTable(text)) : classify(text)
        }
    }

    /// The HTTP response of `GET /api/tags`.
    static func parseTags(_ response: String) -> State {
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let models = object["models"] as? [[String: Any]] else {
            return .failed("GET /api/tags answered what is not Ollama's JSON: \(body.prefix(200))")
        }
        return .answering(models.compactMap { model in
            guard let text = (model["name"] ?? model["model"]) as? String, let name = OllamaModelName(text) else { return nil }
            return Listed(name: name, digest: model["digest"] as? String ?? "", size: model["size"] as? Int)
        })
    }

    /// `ollama list`: `NAME ID SIZE MODIFIED` under a header.
    static func parseTable(_ text: String) -> [Listed] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let name = OllamaModelName(String(fields[0])) else { return nil }
            return Listed(name: name, digest: String(fields[1]))
        }
    }

    static func classify(_ text: String) -> State {
        let lower = text.lowercased()
        if lower.contains("no such container") { return .absent(text) }
        if lower.contains("can only exec into running containers") || lower.contains("container state improper")
            || lower.contains("could not connect") || lower.contains("connection refused") {
            return .down(text)
        }
        return .failed(text)
    }

    // MARK: Pulls (run in the background on the host, followed by a polling step)

    /// Where a pull's log, exit status and pid live: root's in /run, others' in their runtime folder.
    static let pullFolder = #"""
    if [ "$(id -u)" = 0 ]; then d=/run/provision-ollama; else d=${XDG_RUNTIME_DIR:-/tmp}/provision-ollama-$(id -u); fi
    mkdir -p -m 700 "$d" 2>/dev/null; [ -d "$d" ] && [ -O "$d" ] && [ ! -L "$d" ] || { echo "cannot use $d for the pull's log" >&2; exit 1; }
    f=$d/$key
    """#

    /// Arguments: KEY INSTANCE MODEL USER. Starts `ollama pull MODEL` in the instance unless one for the
    /// same key still runs (an interrupted earlier run): the pull goes on if provision stops, as Ollama's does.
    static let startScript = asUser + #"""
    key=$1 inst=$2 model=$3 user=$4
    """# + "\n" + pullFolder + "\n" + #"""
    if [ -f "$f.pid" ] && kill -0 "$(cat "$f.pid")" 2>/dev/null; then echo "running $(cat "$f.pid")"; exit 0; fi
    rm -f "$f.rc" "$f.log"
    export PODMAN_IGNORE_CGROUPSV1_WARNING=1
    (
      trap '' HUP
      if [ -n "$user" ]; then as_user "$user" podman exec "$inst" ollama pull "$model"; else podman exec "$inst" ollama pull "$model"; fi >"$f.log" 2>&1
      echo $? > "$f.rc.part" && mv -f "$f.rc.part" "$f.rc"
      rm -f "$f.pid"
    ) </dev/null >/dev/null 2>&1 &
    echo $! > "$f.pid"
    echo "started $!"
    """#

    /// Argument: KEY. Prints `rc STATUS` (finished), `running` or `gone` (it ended without a result), then
    /// the log's last 4 KiB in base64.
    static let pollScript = "key=$1\n" + pullFolder + "\n" + #"""
    if [ -f "$f.rc" ]; then echo "rc $(cat "$f.rc")"
    elif [ -f "$f.pid" ] && kill -0 "$(cat "$f.pid")" 2>/dev/null; then echo running
    else echo gone; fi
    [ -f "$f.log" ] && tail -c 4096 "$f.log" | base64 | tr -d '\n'
    echo
    """#

    enum Poll: Equatable {
        case finished(Int32, String)
        case running(String)
        case gone(String)
    }

    static func parsePoll(_ output: CommandOutput) -> Poll? {
        guard output.status == 0 else { return nil }
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first else { return nil }
        let log = String(decoding: Data(base64Encoded: lines.count > 1 ? lines[1] : "") ?? Data(), as: UTF8.self)
        if first.hasPrefix("rc "), let status = Int32(first.dropFirst(3)) { return .finished(status, log) }
        if first == "running" { return .running(log) }
        if first == "gone" { return .gone(log) }
        return nil
    }

    /// The CLI's lines without terminal escapes and progress-bar repaints: the last state of each line.
    static func logLines(_ log: String) -> [String] {
        var text = ""
        var index = log.startIndex
        while index < log.endIndex {
            let character = log[index]
            if character == "\u{1B}" {
                // CSI (ESC [ ... final byte) or a two-character escape.
                var next = log.index(after: index)
                if next < log.endIndex, log[next] == "[" {
                    next = log.index(after: next)
                    while next < log.endIndex, !(log[next].asciiValue.map { (0x40...0x7E).contains($0) } ?? true) { next = log.index(after: next) }
                }
                index = next < log.endIndex ? log.index(after: next) : next
                continue
            }
            text.append(character)
            index = log.index(after: index)
        }
        // "\r\n" is one Character in Swift: a line break, not a repaint.
        return text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").compactMap { line in
            let last = line.split(separator: "\r").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return last.isEmpty ? nil : last
        }
    }

    // MARK: Imports (a model store folder into the instance's store)

    /// Arguments: INSTANCE SOURCE MANIFEST CLEANUP USER N (DIGEST SIZE)*N MANIFEST_SIZE. Verifies every
    /// blob of SOURCE/blobs against its digest before anything goes into the instance; then writes the blobs
    /// (each to a temporary name, checked, renamed), the manifest last, so the model appears whole or not at
    /// all (blobs without a manifest are pruned by the server at its next start). CLEANUP=1 removes SOURCE.
    static let importScript = asUser + #"""
    inst=$1 src=$2 manifest=$3 cleanup=$4 user=$5 n=$6; shift 6
    fail() { printf '%s\n' "$*" >&2; [ "$cleanup" = 1 ] && rm -rf -- "$src"; exit 1; }
    export PODMAN_IGNORE_CGROUPSV1_WARNING=1
    pm() { if [ -n "$user" ]; then as_user "$user" podman "$@"; else podman "$@"; fi; }
    i=0 blobs=
    while [ "$i" -lt "$n" ]; do
      b=$1 size=$2; shift 2; i=$((i + 1))
      file=$src/blobs/sha256-$b
      [ -f "$file" ] || fail "$file is missing: the model store is incomplete, nothing was imported"
      have=$(sha256sum < "$file" | cut -c1-64)
      [ "$have" = "$b" ] || fail "$file does not match its digest (its sha256 is $have): refused, nothing was imported"
      [ "$(($(wc -c < "$file")))" = "$size" ] || fail "$file is not $size bytes as the manifest says: refused, nothing was imported"
      blobs="$blobs $b:$size"
    done
    msize=$1
    [ -f "$src/manifests/$manifest" ] || fail "$src/manifests/$manifest is missing"
    # In the container: DEST SIZE SHA256; the bytes on stdin. An equal file in place is kept.
    put='d=${OLLAMA_MODELS:-$HOME/.ollama/models}; t=$d/$1; p=$t.provision-partial
    if [ -f "$t" ] && [ "$(($(wc -c < "$t")))" = "$2" ] && [ "$1" != "${1#blobs/}" ]; then cat >/dev/null; exit 0; fi
    mkdir -p "${t%/*}" && cat > "$p" && [ "$(($(wc -c < "$p")))" = "$2" ] || { rm -f "$p"; echo "writing $t failed" >&2; exit 1; }
    if command -v sha256sum >/dev/null 2>&1 && [ -n "$3" ]; then
      [ "$(sha256sum < "$p" | cut -c1-64)" = "$3" ] || { rm -f "$p"; echo "$t arrived damaged" >&2; exit 1; }
    fi
    mv -f "$p" "$t"'
    for entry in $blobs; do
      b=${entry%%:*} size=${entry#*:}
      pm exec -i "$inst" sh -c "$put" put "blobs/sha256-$b" "$size" "$b" < "$src/blobs/sha256-$b" || fail "copying blob sha256-$b into $inst failed"
    done
    pm exec -i "$inst" sh -c "$put" put "manifests/$manifest" "$msize" "" < "$src/manifests/$manifest" || fail "writing the manifest into $inst failed"
    [ "$cleanup" = 1 ] && rm -rf -- "$src"
    exit 0
    """#
}
