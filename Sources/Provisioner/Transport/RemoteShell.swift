import Foundation

/// Shell words for the remote POSIX shell: every argument the ssh transport
/// sends is quoted here, once, so no input is ever interpreted by a shell.
public enum RemoteShell {
    /// `abc` -> `'abc'`, `it's` -> `'it'\''s'`: single quotes make every byte literal. For words that
    /// go to a command line, `quote` (a NUL cannot).
    public static func quoted(_ word: String) -> String {
        // Byte by byte: scripts of tens of kilobytes are quoted on every run, and Foundation's
        // replacingOccurrences goes through CFString.
        var quoted: [UInt8] = [UInt8(ascii: "'")]
        quoted.reserveCapacity(word.utf8.count + 16)
        for byte in word.utf8 {
            if byte == UInt8(ascii: "'") { quoted.append(contentsOf: #"'\''"#.utf8) } else { quoted.append(byte) }
        }
        quoted.append(UInt8(ascii: "'"))
        return String(decoding: quoted, as: UTF8.self)
    }

    /// `quoted`, refusing a word with a NUL byte, which no remote command can receive.
    static func quote(_ word: String) throws -> String {
        guard !word.utf8.contains(0) else {
            throw TransportError("an argument contains a NUL byte, which no remote command can receive: \(word.debugDescription)")
        }
        return quoted(word)
    }

    static func quote(_ words: [String]) throws -> String {
        try words.map(quote).joined(separator: " ")
    }

    /// An environment name a shell can `export` (Command.environment keys).
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// Splits a command line into words as Python's `shlex.split` does, which is how
    /// Ansible reads `ssh_args`, `ansible_ssh_common_args` and `ansible_ssh_extra_args`.
    /// Empty words are dropped, as Ansible drops them.
    static func split(_ line: String) throws -> [String] {
        enum State { case between, word, single, double }
        var words: [String] = []
        var word = ""
        var state = State.between
        var characters = line.makeIterator()
        while let c = characters.next() {
            switch state {
            case .between, .word:
                if c == " " || c == "\t" || c == "\n" || c == "\r" {
                    if state == .word { words.append(word); word = "" }
                    state = .between
                } else if c == "'" {
                    state = .single
                } else if c == "\"" {
                    state = .double
                } else if c == "\\" {
                    guard let next = characters.next() else { throw TransportError("no escaped character at the end of '\(line)'") }
                    word.append(next)
                    state = .word
                } else {
                    word.append(c)
                    state = .word
                }
            case .single:
                if c == "'" { state = .word } else { word.append(c) }
            case .double:
                if c == "\"" {
                    state = .word
                } else if c == "\\" {
                    guard let next = characters.next() else { throw TransportError("no closing quotation in '\(line)'") }
                    // Inside double quotes a backslash escapes only `"` and itself.
                    if next != "\"" && next != "\\" { word.append("\\") }
                    word.append(next)
                } else {
                    word.append(c)
                }
            }
        }
        guard state != .single && state != .double else { throw TransportError("no closing quotation in '\(line)'") }
        if state == .word { words.append(word) }
        return words.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
