import Foundation
import Provisioner

/// What a compose task reads from the host, in the play's one round trip: its project's files (compose files,
/// dotenv files), and every file or folder the compose files name literally (their `env_file`s, bind-mount
/// sources): the project's effective configuration includes the env files' content, and the compose files are
/// only parsed on the controller, after the read.
enum ComposeProbe {
    /// Largest file read (compose and env files are small; a bind-mounted data file is not read beyond this).
    static let maximumSize = 1 << 20
    /// At most this many referenced paths are looked at.
    static let maximumReferences = 256

    /// Arguments: DIR N FILE... (FILE relative to DIR or absolute), then referenced paths (from an inline
    /// definition). Prints `nodir`, or per FILE `f I SIZE MTIME` + `b BASE64`, `m I` (missing) or `big I SIZE`;
    /// then per referenced path found (named in the files read, or given): `r SIZE MTIME PATH` + `b BASE64`,
    /// `d PATH` (a folder) or `x PATH` (missing, given only).
    static let readScript = #"""
    dir=$1 n=$2; shift 2
    [ -d "$dir" ] || { echo nodir; exit 0; }
    cd "$dir" || exit 1
    i=0 found=
    while [ "$i" -lt "$n" ]; do
      f=$1; shift; i=$((i+1))
      if [ -f "$f" ]; then
        s=$(stat -L -c '%s %Y' -- "$f") || exit 1
        if [ "${s%% *}" -gt __MAX__ ]; then echo "big $i ${s%% *}"; continue; fi
        echo "f $i $s"; echo "b $(base64 -w0 < "$f")"
        found="$found$f
    "
      else
        echo "m $i"
      fi
    done
    seen=
    show() {
      case "$seen" in *"|$1|"*) return ;; esac
      seen="$seen|$1|"
      if [ -f "$1" ]; then
        s=$(stat -L -c '%s %Y' -- "$1") || return
        [ "${s%% *}" -le __MAX__ ] || return
        echo "r $s $1"; echo "b $(base64 -w0 < "$1")"
      elif [ -d "$1" ]; then echo "d $1"
      elif [ "$2" = given ]; then echo "x $1"
      fi
    }
    for p; do show "$p" given; done
    [ -n "$found" ] || exit 0
    count=0
    for t in $(printf '%s' "$found" | while IFS= read -r f; do tr -c 'A-Za-z0-9._/~@+-' '\n' < "$f"; done | grep -E '^(\.{1,2}/|/|[A-Za-z0-9_][A-Za-z0-9._-]*\.[A-Za-z0-9]+$)' | sort -u); do
      count=$((count+1)); [ "$count" -le __REFS__ ] || break
      show "$t" scanned
    done
    """#.replacingAll("__MAX__", with: String(maximumSize)).replacingAll("__REFS__", with: String(maximumReferences))

    static func read(directory: String, files: [String], references: [String]) -> Observation {
        .command(["/bin/sh", "-c", readScript, "compose-read", directory, String(files.count)] + files + references)
    }

    struct File: Equatable, Sendable {
        var content: [UInt8]
        var modified: Int
        var text: String { String(decoding: content, as: UTF8.self) }
    }

    struct Read: Equatable, Sendable {
        var directoryMissing = false
        /// The asked-for files by position: nil when missing.
        var files: [File?] = []
        /// Asked-for files too large to be compose or env files: their size.
        var tooLarge: [Int: Int] = [:]
        /// Referenced paths (as written, relative to the folder or absolute).
        var referenced: [String: File] = [:]
        var folders: Set<String> = []
        var missing: Set<String> = []
    }

    static func parse(_ output: CommandOutput?, count: Int) -> Read? {
        guard let output, output.status == 0 else { return nil }
        var read = Read(files: Array(repeating: nil, count: count))
        var pending: ((File) -> Void)?
        var pendingMeta: (size: Int, modified: Int)?
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            switch fields[0] {
            case "nodir": read.directoryMissing = true
            case "f" where fields.count == 4:
                guard let index = Int(fields[1]), index >= 1, index <= count, let size = Int(fields[2]), let modified = Int(fields[3]) else { return nil }
                pendingMeta = (size, modified)
                pending = { read.files[index - 1] = $0 }
            case "m" where fields.count == 2: break
            case "big" where fields.count == 3:
                if let index = Int(fields[1]), let size = Int(fields[2]) { read.tooLarge[index - 1] = size }
            case "r" where fields.count == 4:
                guard let size = Int(fields[1]), let modified = Int(fields[2]) else { return nil }
                let path = fields[3]
                pendingMeta = (size, modified)
                pending = { read.referenced[path] = $0 }
            case "d" where fields.count >= 2: read.folders.insert(String(line.dropFirst(2)))
            case "x" where fields.count >= 2: read.missing.insert(String(line.dropFirst(2)))
            case "b":
                guard let meta = pendingMeta, let store = pending else { return nil }
                let content = QuadletProbe.decode(fields.count > 1 ? fields[1] : "")
                // A file that changed between stat and read: better no reading than a wrong one.
                guard content.count == meta.size else { return nil }
                store(File(content: content, modified: meta.modified))
                pending = nil
                pendingMeta = nil
            default: break
            }
        }
        return pending == nil ? read : nil
    }

    /// The words of compose text that may name files (the same rule the read script applies on the host).
    static func references(in text: String) -> [String] {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/~@+-")
        var words: [String] = []
        var word = ""
        for c in text + "\n" {
            if allowed.contains(c) { word.append(c); continue }
            if !word.isEmpty, word.range(of: #"^(\.{1,2}/|/|[A-Za-z0-9_][A-Za-z0-9._-]*\.[A-Za-z0-9]+$)"#, options: .regularExpression) != nil,
               !words.contains(word) {
                words.append(word)
            }
            word = ""
        }
        return Array(words.prefix(maximumReferences))
    }
}
