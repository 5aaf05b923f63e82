import Foundation
import Provisioner

/// Ansible's `stat`: everything about one path, read in the play's single observation round trip
/// with coreutils (`stat`, the checksum tools), `file` for the MIME type and `lsattr` for
/// attributes when the host has them. Never changes anything.
struct StatModule: Module {
    static let name = "stat"
    static let summary = "Report a path's type, mode, owner, times, checksum and more"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("path", .path, required: true, aliases: ["dest", "name"], doc: "the path to look at"),
        ArgumentSpec("follow", .bool, default: false, doc: "describe what a symbolic link leads to, not the link"),
        ArgumentSpec("get_checksum", .bool, default: true, doc: "checksum of a readable regular file"),
        ArgumentSpec("checksum_algorithm", .string, default: "sha1", choices: GetURLModule.algorithms,
                     aliases: ["checksum", "checksum_algo"], doc: "algorithm of the checksum"),
        ArgumentSpec("get_mime", .bool, default: true, aliases: ["mime", "mime_type", "mime-type"],
                     doc: "MIME type and charset (from file(1); 'unknown' without it)"),
        ArgumentSpec("get_attributes", .bool, default: true, aliases: ["attr", "attributes"], doc: "attributes from lsattr(1)"),
    ]

    let path: String
    let follow: Bool
    let checksum: String?
    let mime: Bool
    let attributes: Bool

    init(_ arguments: ModuleArguments) throws {
        path = arguments.string("path") ?? ""
        follow = arguments.bool("follow")
        checksum = arguments.bool("get_checksum") ? (arguments.string("checksum_algorithm") ?? "sha1") : nil
        mime = arguments.bool("get_mime")
        attributes = arguments.bool("get_attributes")
        if path.isEmpty { throw ModuleError("path must not be empty", argument: "path") }
    }

    /// Prints `key<TAB>value` lines: `stat` (fields of `format`), `access`, `link`, `real`, `checksum`,
    /// `mime`, `lsattr`; or `missing`, or `error<TAB>why`.
    static let format = "%f|%u|%g|%s|%i|%d|%h|%.9X|%.9Y|%.9Z|%b|%o|%t|%T|%U|%G"
    static let script = #"""
    p=$1 follow=$2 alg=$3 mime=$4 attrs=$5
    L=; [ "$follow" = 1 ] && L=-L
    if ! s=$(LC_ALL=C stat $L -c "$6" -- "$p" 2>&1); then
      case $s in *'No such file'*|*'Not a directory'*) echo missing ;; *) printf 'error\t%s\n' "$s" ;; esac
      exit 0
    fi
    printf 'stat\t%s\n' "$s"
    a=; [ -r "$p" ] && a=${a}r; [ -w "$p" ] && a=${a}w; [ -x "$p" ] && a=${a}x
    printf 'access\t%s\n' "$a"
    if [ "$follow" = 0 ] && [ -L "$p" ]; then
      printf 'link\t%s\n' "$(readlink -- "$p")"; printf 'real\t%s\n' "$(realpath -m -- "$p")"
    fi
    if [ -n "$alg" ] && { [ "$follow" = 1 ] || [ ! -L "$p" ]; } && [ -f "$p" ] && [ -r "$p" ]; then
      printf 'checksum\t%s\n' "$("${alg}sum" < "$p" | cut -d ' ' -f 1)"
    fi
    if [ "$mime" = 1 ] && command -v file >/dev/null 2>&1; then printf 'mime\t%s\n' "$(file -b --mime-type --mime-encoding -- "$p" 2>/dev/null)"; fi
    if [ "$attrs" = 1 ] && command -v lsattr >/dev/null 2>&1; then
      l=$(lsattr -vd -- "$p" 2>/dev/null) && printf 'lsattr\t%s\n' "$l"
    fi
    exit 0
    """#

    var probe: Observation {
        .command(["/bin/sh", "-c", StatModule.script, "sh", path, follow ? "1" : "0", checksum ?? "", mime ? "1" : "0",
                  attributes ? "1" : "0", StatModule.format])
    }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let output = observed.command(probe.argv), output.status == 0 else {
            return .failed("stat could not run on the host: \(observed.command(probe.argv)?.stderr ?? "no answer")")
        }
        var lines: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            let pair = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            lines[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        if let error = lines["error"] { return .failed(error) }
        guard let fields = lines["stat"]?.split(separator: "|", omittingEmptySubsequences: false).map(String.init), fields.count == 16,
              let raw = UInt32(fields[0], radix: 16) else {
            return Plan(result: ["stat": ["exists": false]])
        }
        return Plan(result: ["stat": .dict(StatModule.describe(path: path, raw: raw, fields: fields, lines: lines, mime: mime,
                                                               attributes: attributes))])
    }

    static let attributeNames: [Character: String] = [
        "A": "noatime", "a": "append", "c": "compressed", "C": "nocow", "d": "nodump", "D": "dirsync", "e": "extents",
        "E": "encrypted", "h": "blocksize", "i": "immutable", "I": "indexed", "j": "journalled", "N": "inline", "s": "zero",
        "S": "synchronous", "t": "notail", "T": "blockroot", "u": "undelete", "X": "compressedraw", "Z": "compresseddirty",
    ]

    /// Ansible's `stat` dictionary from the probe's lines.
    static func describe(path: String, raw: UInt32, fields: [String], lines: [String: String], mime: Bool, attributes: Bool) -> ValueDict {
        let type = raw & 0o170000
        func bit(_ mask: UInt32) -> Value { .bool(raw & mask != 0) }
        func int(_ index: Int) -> Value { .int(Int(fields[index]) ?? 0) }
        func time(_ index: Int) -> Value { .float(Double(fields[index]) ?? 0) }
        let access = lines["access"] ?? ""
        var result = ValueDict([
            ("exists", true), ("path", .string(path)), ("mode", .string(String(format: "%04o", raw & 0o7777))),
            ("isdir", .bool(type == 0o040000)), ("ischr", .bool(type == 0o020000)), ("isblk", .bool(type == 0o060000)),
            ("isreg", .bool(type == 0o100000)), ("isfifo", .bool(type == 0o010000)), ("islnk", .bool(type == 0o120000)),
            ("issock", .bool(type == 0o140000)), ("uid", int(1)), ("gid", int(2)), ("size", int(3)), ("inode", int(4)),
            ("dev", int(5)), ("nlink", int(6)), ("atime", time(7)), ("mtime", time(8)), ("ctime", time(9)),
            ("wusr", bit(0o200)), ("rusr", bit(0o400)), ("xusr", bit(0o100)), ("wgrp", bit(0o020)), ("rgrp", bit(0o040)),
            ("xgrp", bit(0o010)), ("woth", bit(0o002)), ("roth", bit(0o004)), ("xoth", bit(0o001)),
            ("isuid", bit(0o4000)), ("isgid", bit(0o2000)), ("blocks", int(10)), ("block_size", int(11)),
        ])
        // glibc's makedev, as Python's st_rdev holds it.
        let major = UInt64(fields[12], radix: 16) ?? 0, minor = UInt64(fields[13], radix: 16) ?? 0
        result["device_type"] = .int(Int(truncatingIfNeeded: ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)))
        result["readable"] = .bool(access.contains("r"))
        result["writeable"] = .bool(access.contains("w"))
        result["executable"] = .bool(access.contains("x"))
        if let target = lines["link"] {
            result["lnk_source"] = .string(lines["real"] ?? "")
            result["lnk_target"] = .string(target)
        }
        if fields[14] != "UNKNOWN" { result["pw_name"] = .string(fields[14]) }
        if fields[15] != "UNKNOWN" { result["gr_name"] = .string(fields[15]) }
        if let checksum = lines["checksum"] { result["checksum"] = .string(checksum) }
        if mime {
            let parts = (lines["mime"] ?? "").split(separator: ";", maxSplits: 1)
            let charset = parts.count == 2 ? parts[1].split(separator: "=", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } : nil
            result["mimetype"] = .string(parts.count == 2 ? parts[0].trimmingCharacters(in: .whitespaces) : "unknown")
            result["charset"] = .string(charset ?? "unknown")
        }
        if attributes {
            result["version"] = .null
            result["attributes"] = []
            result["attr_flags"] = ""
            let words = (lines["lsattr"] ?? "").split(separator: " ")
            if words.count >= 2 {
                let flags = words[1].filter { $0 != "-" }
                result["version"] = .string(String(words[0]))
                result["attr_flags"] = .string(flags)
                result["attributes"] = .list(flags.compactMap { attributeNames[$0].map(Value.string) })
            }
        }
        return result
    }
}
