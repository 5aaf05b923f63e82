/// A small declarative option parser: each command lists its options once, and
/// parsing, errors and `--help` all come from that list.
struct OptionSpec {
    var names: [String]
    var value: String?
    var help: String
    var repeatable = false
}

struct ParsedOptions {
    var values: [String: [String]] = [:]
    var flags: [String: Int] = [:]
    var positionals: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { (flags[name] ?? 0) > 0 }
    func count(_ name: String) -> Int { flags[name] ?? 0 }
}

struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct CommandSpec {
    var name: String
    var synopsis: String
    var summary: String
    var options: [OptionSpec]

    var help: String {
        var lines = ["usage: provision \(synopsis)", "", summary, "", "options:"]
        for option in options {
            let names = option.names.joined(separator: ", ") + (option.value.map { " \($0)" } ?? "")
            lines.append("  " + names.padding(toLength: max(28, names.count + 2), withPad: " ", startingAt: 0) + option.help)
        }
        return lines.joined(separator: "\n")
    }

    /// The canonical (first, long) name of an option.
    func spec(for word: String) -> OptionSpec? { options.first { $0.names.contains(word) } }

    func parse(_ arguments: [String]) throws -> ParsedOptions {
        var parsed = ParsedOptions()
        var index = 0
        while index < arguments.count {
            var word = arguments[index]
            index += 1
            if word == "--" {
                parsed.positionals += arguments[index...]
                break
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                parsed.positionals.append(word)
                continue
            }
            var inline: String?
            if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
                inline = String(word[word.index(after: eq)...])
                word = String(word[..<eq])
            }
            // `-vvv` counts three times.
            if !word.hasPrefix("--"), word.count > 2, word.dropFirst().allSatisfy({ $0 == "v" }) {
                parsed.flags["--verbose", default: 0] += word.count - 1
                continue
            }
            guard let spec = spec(for: word) else {
                let known = options.flatMap(\.names)
                throw UsageError(message: "unknown option '\(word)' for '\(name)'\(Suggestion.hint(for: word, in: known)) (see 'provision \(name) --help')")
            }
            let key = spec.names.first { $0.hasPrefix("--") } ?? spec.names[0]
            if spec.value != nil {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard index < arguments.count else { throw UsageError(message: "option '\(word)' needs a value \(spec.value ?? "")") }
                    value = arguments[index]
                    index += 1
                }
                parsed.values[key, default: []].append(value)
            } else {
                if inline != nil { throw UsageError(message: "option '\(word)' takes no value") }
                parsed.flags[key, default: 0] += 1
            }
        }
        return parsed
    }
}
