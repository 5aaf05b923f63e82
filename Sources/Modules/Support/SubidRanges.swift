/// The entries of /etc/subuid or /etc/subgid (`name:start:count` lines), with the
/// text kept as it was so that edits touch only the lines they must.
struct SubidRanges {
    struct Entry {
        var user: String
        var start: Int
        var count: Int
        /// 1-based, for messages.
        var line: Int

        func overlaps(_ otherStart: Int, _ otherCount: Int) -> Bool {
            start < otherStart + otherCount && otherStart < start + count
        }
    }

    /// Subordinate ids are 32-bit; 4294967295 is reserved (-1).
    static let idLimit = 4_294_967_295

    let text: String
    let path: String
    let entries: [Entry]

    init(text: String, path: String) {
        self.text = text
        self.path = path
        var entries: [Entry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            // Comments and lines we cannot read are kept, and count for nothing.
            guard fields.count == 3, !line.hasPrefix("#"), let start = Int(fields[1]), let count = Int(fields[2]),
                  start >= 0, count > 0 else { continue }
            entries.append(Entry(user: String(fields[0]), start: start, count: count, line: index + 1))
        }
        self.entries = entries
    }

    /// The text without `user`'s lines.
    func removing(_ user: String) -> SubidRanges {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let mine = Set(entries.filter { $0.user == user }.map(\.line))
        let kept = lines.enumerated().filter { !mine.contains($0.offset + 1) }.map(\.element)
        return SubidRanges(text: kept.joined(separator: "\n"), path: path)
    }

    /// The text with `user:start:count` added as the last line.
    func appending(_ user: String, _ start: Int, _ count: Int) -> SubidRanges {
        let head = text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
        return SubidRanges(text: head + "\(user):\(start):\(count)\n", path: path)
    }

    /// The lowest `start` in [low, high] with [start, start + count) inside the bounds and
    /// clear of every range in `taken`; nil when none fits.
    static func lowestFree(_ count: Int, from low: Int, to high: Int, avoiding taken: [Entry]) -> Int? {
        var candidate = low
        for range in taken.sorted(by: { $0.start < $1.start }) {
            if range.overlaps(candidate, count) { candidate = max(candidate, range.start + range.count) }
        }
        // Sorted by start, one pass moves the candidate past every range that overlaps it.
        guard candidate + count - 1 <= high, candidate + count <= idLimit else { return nil }
        return candidate
    }
}

/// SUB_UID_MIN/MAX and SUB_GID_MIN/MAX of /etc/login.defs, with shadow's defaults.
struct SubidLimits {
    static let defaultMin = 100_000
    static let defaultMax = 600_100_000

    private var values: [String: Int] = [:]

    init(loginDefs: String) {
        for line in loginDefs.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, !words[0].hasPrefix("#"), let value = Int(words[1]) else { continue }
            values[String(words[0])] = value
        }
    }

    func bounds(for file: SubidFile) -> (min: Int, max: Int) {
        let prefix = file == .uid ? "SUB_UID_" : "SUB_GID_"
        return (values[prefix + "MIN"] ?? Self.defaultMin, values[prefix + "MAX"] ?? Self.defaultMax)
    }
}
