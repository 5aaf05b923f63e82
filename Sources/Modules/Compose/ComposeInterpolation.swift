import Provisioner

/// Compose's variable interpolation (`${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
/// `${VAR?error}`, `${VAR:+other}`, `${VAR+other}`, `$$` for a dollar sign), applied to every value of a
/// project, and its dotenv format for `.env` and `env_file` files.
///
/// One difference from `docker compose`, on purpose: a variable that is set nowhere (and has no default) is an
/// error naming it, where docker compose warns and uses an empty string — a unit or a container started with
/// an empty password or tag is the worse outcome. `${VAR:-}` asks for the empty string.
struct ComposeInterpolation {
    var variables: [String: String]

    /// Every string scalar of `node`, interpolated; `path` names the node for errors.
    func apply(_ node: ComposeNode, path: String) throws -> ComposeNode {
        var node = node
        switch node.kind {
        case .scalar(.string(let text)):
            do {
                node.kind = .scalar(.string(try interpolate(text)))
            } catch let error as ComposeError {
                throw ComposeError(path, error.message, at: node.location)
            }
        case .list(let items):
            node.kind = .list(try items.enumerated().map { try apply($0.element, path: "\(path)[\($0.offset)]") })
        case .map(let pairs):
            node.kind = .map(try pairs.map { ($0.key, try apply($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)")) })
        case .scalar:
            break
        }
        return node
    }

    func interpolate(_ text: String) throws -> String {
        guard text.contains("$") else { return text }
        var scanner = Array(text)
        var index = 0
        return try expand(&scanner, &index, until: nil)
    }

    /// Expands from `index` until the closing `until` character (a `}` of an enclosing `${...}`) or the end.
    private func expand(_ chars: inout [Character], _ index: inout Int, until close: Character?) throws -> String {
        var out = ""
        while index < chars.count {
            let c = chars[index]
            if let close, c == close { return out }
            guard c == "$" else { out.append(c); index += 1; continue }
            index += 1
            guard index < chars.count else { out.append("$"); break }
            let next = chars[index]
            if next == "$" { out.append("$"); index += 1; continue }
            if next == "{" {
                index += 1
                out += try braced(&chars, &index)
                continue
            }
            let name = identifier(chars, &index)
            if name.isEmpty { out.append("$"); continue }
            out += try value(of: name)
        }
        if close != nil { throw ComposeError("", "'${' is not closed by '}' in '\(String(chars))'") }
        return out
    }

    private func identifier(_ chars: [Character], _ index: inout Int) -> String {
        var name = ""
        while index < chars.count, chars[index] == "_" || chars[index].isLetter && chars[index].isASCII
                || (!name.isEmpty && chars[index].isASCIIDigit) {
            name.append(chars[index])
            index += 1
        }
        return name
    }

    private func braced(_ chars: inout [Character], _ index: inout Int) throws -> String {
        let name = identifier(chars, &index)
        guard !name.isEmpty else { throw ComposeError("", "'${' must be followed by a variable name in '\(String(chars))'") }
        guard index < chars.count else { throw ComposeError("", "'${\(name)' is not closed by '}'") }
        var op = ""
        if chars[index] == ":" { op = ":"; index += 1 }
        if index < chars.count, "-?+".contains(chars[index]) { op.append(chars[index]); index += 1 }
        if op == ":" { throw ComposeError("", "'${\(name):' must be followed by -, ? or + (as in ${\(name):-default})") }
        let argument = op.isEmpty ? "" : try expand(&chars, &index, until: "}")
        guard index < chars.count, chars[index] == "}" else {
            throw ComposeError("", "'${\(name)' is not closed by '}'")
        }
        index += 1
        let current = variables[name]
        let emptyCounts = op.hasPrefix(":")
        let isSet = current != nil && !(emptyCounts && current == "")
        switch op.last {
        case "-"?: return isSet ? current ?? "" : argument
        case "+"?: return isSet ? argument : ""
        case "?"?:
            guard isSet else { throw ComposeError("", "required variable \(name) is \(current == nil ? "not set" : "empty"): \(argument.isEmpty ? "(no message)" : argument)") }
            return current ?? ""
        default: return try value(of: name)
        }
    }

    private func value(of name: String) throws -> String {
        guard let value = variables[name] else {
            throw ComposeError("", "variable \(name) is not set: set it in the project's .env (or an env_file of the task), or write ${\(name):-} for an empty value")
        }
        return value
    }
}

/// Compose's dotenv files: `KEY=value` lines, `export KEY=value`, `#` comments, single quotes (literal),
/// double quotes (escapes, several lines, variables), unquoted values (a ` #` starts a comment; variables
/// expanded). A line with a bare `KEY` names a variable without a value.
enum DotEnv {
    struct Entry: Equatable {
        var key: String
        /// nil for a bare `KEY` line.
        var value: String?
        var line: Int
    }

    /// `known` are variables already defined (earlier files); values may use them and the file's earlier keys.
    static func parse(_ text: String, file: String, known: [String: String] = [:]) throws -> [Entry] {
        var entries: [Entry] = []
        var variables = known
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            let number = index + 1
            var line = lines[index].trimmingCharacters(in: .whitespaces)
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            let location = SourceLocation(file: file, line: number, column: 1)
            guard let equals = line.firstIndex(of: "=") else {
                guard isName(line) else { throw ComposeError("", "expected KEY=value, found '\(line)'", at: location) }
                entries.append(Entry(key: line, value: nil, line: number))
                continue
            }
            let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            guard isName(key) else { throw ComposeError("", "'\(key)' is not a variable name", at: location) }
            var raw = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            let value: String
            let interpolation = ComposeInterpolation(variables: variables)
            if raw.hasPrefix("'") {
                guard raw.count >= 2, raw.hasSuffix("'") else { throw ComposeError("", "\(key): the single quote is not closed on its line", at: location) }
                value = String(raw.dropFirst().dropLast())
            } else if raw.hasPrefix("\"") {
                // A double-quoted value may go on over the next lines, until an unescaped closing quote.
                raw.removeFirst()
                var body = ""
                var closed = false
                while !closed {
                    var escaped = false
                    var rest = ""
                    for c in raw {
                        if closed { rest.append(c); continue }
                        if escaped {
                            switch c {
                            case "n": body.append("\n")
                            case "t": body.append("\t")
                            case "r": body.append("\r")
                            case "\\", "\"", "$": body += c == "$" ? "$$" : String(c)
                            default: body += "\\" + String(c)
                            }
                            escaped = false
                        } else if c == "\\" {
                            escaped = true
                        } else if c == "\"" {
                            closed = true
                        } else {
                            body.append(c)
                        }
                    }
                    if closed {
                        let tail = rest.trimmingCharacters(in: .whitespaces)
                        guard tail.isEmpty || tail.hasPrefix("#") else {
                            throw ComposeError("", "\(key): unexpected '\(tail)' after the closing quote", at: location)
                        }
                        break
                    }
                    guard index < lines.count else { throw ComposeError("", "\(key): the double quote is not closed", at: location) }
                    body.append("\n")
                    raw = lines[index]
                    index += 1
                }
                value = try wrap(key, location) { try interpolation.interpolate(body) }
            } else {
                if let comment = raw.range(of: " #") { raw = String(raw[..<comment.lowerBound]).trimmingCharacters(in: .whitespaces) }
                value = try wrap(key, location) { try interpolation.interpolate(raw) }
            }
            variables[key] = value
            entries.append(Entry(key: key, value: value, line: number))
        }
        return entries
    }

    private static func wrap(_ key: String, _ location: SourceLocation, _ body: () throws -> String) throws -> String {
        do { return try body() } catch let error as ComposeError { throw ComposeError(key, error.message, at: location) }
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || (first.isLetter && first.isASCII) else { return false }
        return text.allSatisfy { $0 == "_" || $0 == "." || $0 == "-" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
