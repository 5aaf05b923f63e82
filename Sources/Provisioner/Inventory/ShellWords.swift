/// Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible's INI
/// inventory uses for host lines: quotes group words and are removed, `\` escapes,
/// and `#` starts a comment wherever a word could continue. Each word keeps the
/// 1-based column where it began so errors can point at it.
enum ShellWords {
    struct Word: Equatable {
        var text: String
        var column: Int
    }

    enum Failure: Error, Equatable {
        case unclosedQuote(column: Int)
        case danglingEscape(column: Int)
    }

    static func split(_ line: String) throws -> [Word] {
        let chars = Array(line.unicodeScalars)
        var words: [Word] = []
        var token = String.UnicodeScalarView()
        var inWord = false      // a word has started, possibly as an empty "" pair
        var start = 0
        var i = 0
        func finish() {
            if inWord { words.append(Word(text: String(token), column: start + 1)) }
            token = String.UnicodeScalarView()
            inWord = false
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case " ", "\t", "\r", "\n":
                finish()
                i += 1
            case "#":
                finish()
                i = chars.count
            case "\\":
                if !inWord { inWord = true; start = i }
                guard i + 1 < chars.count else { throw Failure.danglingEscape(column: i + 1) }
                token.append(chars[i + 1])
                i += 2
            case "'", "\"":
                if !inWord { inWord = true; start = i }
                let open = i
                i += 1
                while true {
                    guard i < chars.count else { throw Failure.unclosedQuote(column: open + 1) }
                    let q = chars[i]
                    if q == c { i += 1; break }
                    // Inside double quotes a backslash escapes only `"` and `\` (and the rest of POSIX's set).
                    if c == "\"", q == "\\", i + 1 < chars.count {
                        let next = chars[i + 1]
                        if next != "\"" && next != "\\" { token.append(q) }
                        token.append(next)
                        i += 2
                        continue
                    }
                    token.append(q)
                    i += 1
                }
            default:
                if !inWord { inWord = true; start = i }
                token.append(c)
                i += 1
            }
        }
        finish()
        return words
    }
}
