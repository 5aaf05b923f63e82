import Foundation

/// One framed answer of the remote shell (see `RemoteShellLibrary`).
enum RemoteShellReply: Equatable {
    case done
    case failure(String)
    case missing
    case command(CommandOutput)
    case file(FileState)
    case blob([UInt8])
    case commands([CommandOutput])

    /// The output does not follow the framing: the session can no longer be trusted.
    struct ProtocolError: Error {
        var message: String
    }

    /// Reads one reply, pulling its lines from `nextLine`.
    static func read(_ nextLine: () throws -> [UInt8]) throws -> RemoteShellReply {
        let header = try nextLine()
        guard header.first == UInt8(ascii: "@") else { throw ProtocolError(message: "unexpected line: \(text(header))") }
        let line = text(header)
        let (tag, rest) = line.firstIndex(of: " ").map { (line[..<$0], String(line[line.index(after: $0)...])) }
            ?? (line[...], "")
        switch tag {
        case "@OK":
            return .done
        case "@M":
            return .missing
        case "@B":
            return .blob(try decode(Array(rest.utf8)))
        case "@P":
            // Plain bytes (paths need not be UTF-8): taken from the line itself, not its text.
            return .blob(Array(header.dropFirst(3)))
        case "@Q":
            return .commands(try probeOutputs(statuses: rest, sizes: text(try nextLine()), blob: try decode(try nextLine())))
        case "@E":
            return .failure(text(try decode(Array(rest.utf8))).trimmingCharacters(in: .newlines))
        case "@C":
            guard let status = Int32(rest) else { throw ProtocolError(message: "bad status line: \(line)") }
            let stdout = try decode(try nextLine()), stderr = try decode(try nextLine())
            return .command(CommandOutput(status: status, stdout: text(stdout), stderr: text(stderr)))
        case "@F":
            let owner = text(try nextLine()), group = text(try nextLine()), link = try nextLine(), content = try nextLine()
            // "!" is outside the base64 alphabet: what precedes it is a partial read.
            if let mark = content.firstIndex(of: UInt8(ascii: "!")) {
                return .failure(text(try decode(Array(content[(mark + 1)...]))).trimmingCharacters(in: .newlines))
            }
            return .file(try fileState(rest, owner: owner, group: group, link: link, content: content))
        default:
            throw ProtocolError(message: "unexpected line: \(line)")
        }
    }

    /// `%f %u %g %s %Y %h %y` of GNU stat: raw hex mode, ids, size, seconds, link count, and
    /// the human-readable time whose fraction gives the nanoseconds.
    private static func fileState(_ line: String, owner: String, group: String,
                                  link: [UInt8], content: [UInt8]) throws -> FileState {
        let fields = line.split(separator: " ")
        guard fields.count >= 8, let raw = UInt32(fields[0], radix: 16), let size = Int(fields[3]),
              let seconds = Double(fields[4]), let links = Int(fields[5]) else { throw ProtocolError(message: "bad stat line: \(line)") }
        let fraction = fields[7].split(separator: ".", maxSplits: 1).dropFirst().first.flatMap { Double("0." + $0) } ?? 0
        let kind: FileState.Kind
        switch raw & 0o170000 {
        case 0o100000: kind = .file
        case 0o040000: kind = .directory
        case 0o120000: kind = .link
        default: kind = .other
        }
        // stat prints UNKNOWN for ids without a name; the local transport shows the number.
        var state = FileState(kind: kind, mode: raw & 0o7777,
                              owner: owner == "UNKNOWN" ? String(fields[1]) : owner,
                              group: group == "UNKNOWN" ? String(fields[2]) : group,
                              size: size, modified: seconds + fraction, links: links)
        if kind == .link {
            var target = try decode(link)
            if target.last == UInt8(ascii: "\n") { target.removeLast() }
            state.linkTarget = text(target)
        }
        if content != [UInt8(ascii: "-")] { state.content = try decode(content) }
        return state
    }

    /// Splits the outputs of `pv_flush` by the sizes it printed.
    private static func probeOutputs(statuses: String, sizes: String, blob: [UInt8]) throws -> [CommandOutput] {
        let codes = statuses.split(separator: " ").compactMap { Int32($0) }
        let lengths = sizes.split(separator: " ").compactMap { Int($0) }
        guard lengths.count == codes.count * 2, lengths.reduce(0, +) == blob.count else {
            throw ProtocolError(message: "probe outputs do not add up (\(codes.count) statuses, sizes \(sizes), \(blob.count) bytes)")
        }
        var offset = 0
        func next(_ length: Int) -> String {
            defer { offset += length }
            return text(Array(blob[offset..<offset + length]))
        }
        return codes.enumerated().map { index, code in
            CommandOutput(status: code, stdout: next(lengths[2 * index]), stderr: next(lengths[2 * index + 1]))
        }
    }

    private static func decode(_ base64: [UInt8]) throws -> [UInt8] {
        if base64.isEmpty { return [] }
        guard let data = Data(base64Encoded: Data(base64)) else { throw ProtocolError(message: "bad base64 data") }
        return [UInt8](data)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
