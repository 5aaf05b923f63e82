import Provisioner

/// Python's `shlex.split` (POSIX mode), which Ansible's `command` module uses to
/// turn a free-form string into argv: quotes group, backslashes escape, and
/// nothing is expanded.
enum Shlex {
    static func split(_ text: String, argument: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        // A word exists once anything (even an empty quote) started it.
        var inWord = false
        var chars = Substring(text)
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word); word = ""; inWord = false }
            case "\\":
                guard let next = chars.popFirst() else { throw ModuleError("No escaped character", argument: argument) }
                word.append(next)
                inWord = true
            case "'":
                inWord = true
                guard let close = chars.firstIndex(of: "'") else { throw ModuleError("No closing quotation", argument: argument) }
                word += chars[..<close]
                chars = chars[chars.index(after: close)...]
            case "\"":
                inWord = true
                var closed = false
                while let q = chars.popFirst() {
                    if q == "\"" { closed = true; break }
                    // Inside double quotes a backslash escapes only a quote or another backslash.
                    if q == "\\", let next = chars.first, next == "\"" || next == "\\" {
                        word.append(next)
                        chars.removeFirst()
                    } else {
                        word.append(q)
                    }
                }
                if !closed { throw ModuleError("No closing quotation", argument: argument) }
            default:
                word.append(c)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
