/// Observations of one host (as one user). All tasks' observations are read up front in
/// one round trip; while nothing changes they stand. A change makes stale only what it
/// can affect, so a loop of N changes costs O(N), not O(N²):
///
/// - a file action (write, remove, mkdir, attributes, touch) on a path: the observations of
///   that path, of everything below it and of the folders above it, compared where they
///   really are (`PathLocation`: links in folders resolved, so `/lib/x` is `/usr/lib/x`),
///   and those whose location is unknown; a `.target` also by where it leads;
/// - every command probe (a probe may read any file);
/// - everything, for a command (it may do anything), for an action that makes or replaces a
///   link, acts on a hard-linked file or on a path not freshly observed (its kind unknown).
///
/// A task whose observations are stale re-reads them with those of the next tasks that are
/// stale too, in one round trip; how far ahead adapts (doubling while the reads ahead get
/// used, halving while a later change spoils them or there is nothing to read), which keeps
/// round trips few after an isolated change and the reads linear when every task changes something.
struct ObservationCache {
    /// The answers of remembered probes from earlier runs (`ObservationMemory`).
    private var memory: ObservationMemory?
    private var known = Observations()
    /// The epoch each observation was last read in; invalidations advance the epoch.
    private var readAt: [Observation: Int] = [:]
    private var staleAt: [Observation: Int] = [:]
    private var epoch = 0
    private var allStaleAt = 0
    private var commandsStaleAt = 0

    /// Tasks in run order with what they observe, and the first one not run yet.
    private var order: [String] = []
    private var position: [String: Int] = [:]
    private var requestsByTask: [String: [Observation]] = [:]
    private var cursor = 0
    /// How many tasks ahead a re-read looks, and what the last one read ahead.
    private var window = 16
    private var readAhead: Set<Observation> = []

    /// Observations by where they are: at a location, below a folder; those of unknown location.
    private var atLocation: [String: Set<Observation>] = [:]
    private var belowFolder: [String: Set<Observation>] = [:]
    private var unlocated: Set<Observation> = []
    /// Folders as tasks name them -> where they really are, learned from what was observed.
    private var physicalFolders: [String: String] = [:]

    init(memory: ObservationMemory? = nil) { self.memory = memory }

    mutating func prefetch(_ requests: [(task: String, observations: [Observation])], via transport: Transport) throws {
        order = requests.map(\.task)
        for (index, request) in requests.enumerated() {
            position[request.task] = index
            requestsByTask[request.task] = request.observations
        }
        cursor = 0
        let all = Set(requests.flatMap(\.observations))
        guard !all.isEmpty else { return }
        try read(all, via: transport)
    }

    mutating func observe(_ requests: [Observation], for key: String, via transport: Transport) throws -> Observations {
        if let at = position[key] { cursor = max(cursor, at + 1) }
        let stale = Set(requests.filter { !isFresh($0) })
        if !stale.isEmpty {
            // The last look ahead found nothing, or what it read was spoiled before use: look less far;
            // it was used: look further.
            if readAhead.isEmpty {
                window = max(1, window / 2)
            } else {
                window = stale.isDisjoint(with: readAhead) ? min(window * 2, 4096) : window / 2
            }
            var ahead = Set<Observation>()
            var index = cursor
            while index < order.count && index < cursor + window {
                for request in requestsByTask[order[index]] ?? [] where !isFresh(request) && !stale.contains(request) {
                    ahead.insert(request)
                }
                index += 1
            }
            try read(stale.union(ahead), via: transport)
            readAhead = ahead
        }
        var answer = Observations()
        for request in requests {
            switch request {
            case .file(let path, _):
                if let state = known.files[path] { answer.files[path] = state } else { answer.missing.insert(path) }
            case .command(let argv):
                answer.commands[argv] = known.commands[argv]
            case .target(let path):
                if let state = known.targets[path] { answer.targets[path] = state } else { answer.unresolved.insert(path) }
            }
            if let path = request.path, let location = known.locations[path] { answer.locations[path] = location }
        }
        return answer
    }

    /// After a change whose effect is unknown (a command ran): nothing observed can be trusted.
    mutating func invalidate() {
        epoch += 1
        allStaleAt = epoch
        commandsStaleAt = epoch
        // Links may have changed: where paths are must be learned again.
        physicalFolders.removeAll()
        known.locations.removeAll()
    }

    /// Before `actions` run: makes stale what they can affect (see the type's comment).
    mutating func invalidate(after actions: [Action]) {
        var affected: Set<Observation> = []
        for action in actions {
            guard let path = action.changedPath, let entry = location(of: path), !mayChangeLinks(action, path) else {
                invalidate()
                return
            }
            affected.formUnion(atLocation[entry] ?? [])
            affected.formUnion(belowFolder[entry] ?? [])
            for folder in PathNames.ancestors(of: entry) { affected.formUnion(atLocation[folder] ?? []) }
        }
        epoch += 1
        commandsStaleAt = epoch
        for observation in affected.union(unlocated) { staleAt[observation] = epoch }
    }

    // MARK: Freshness

    private func isFresh(_ observation: Observation) -> Bool {
        guard let read = readAt[observation], read >= allStaleAt else { return false }
        if case .command = observation { return read >= commandsStaleAt }
        return read >= (staleAt[observation] ?? 0)
    }

    private mutating func read(_ requests: Set<Observation>, via transport: Transport) throws {
        var batch = requests
        // A path read without its content would overwrite the content a fresh request holds: read both.
        for case .file(let path, false) in requests where readAt[.file(path: path, content: true)] != nil {
            batch.insert(.file(path: path, content: true))
        }
        let observed = try memory?.observe(Array(batch), via: transport) ?? transport.observe(Array(batch))
        known.merge(observed)
        for observation in batch {
            readAt[observation] = epoch
            index(observation, observed)
        }
    }

    // MARK: Where things are

    private mutating func index(_ observation: Observation, _ observed: Observations) {
        guard let path = observation.path else { return }
        guard let location = observed.locations[path] else {
            unlocated.insert(observation)
            return
        }
        unlocated.remove(observation)
        physicalFolders[PathNames.folder(of: PathNames.normalized(path))] = PathNames.folder(of: location.entry)
        for place in [location.entry] + (location.resolved.map { [$0] } ?? []) {
            atLocation[place, default: []].insert(observation)
            for folder in PathNames.ancestors(of: place) { belowFolder[folder, default: []].insert(observation) }
        }
    }

    /// Where an action's path really is, when that is known.
    private func location(of path: String) -> String? {
        if let entry = known.locations[path]?.entry { return entry }
        let normalized = PathNames.normalized(path)
        guard let folder = physicalFolders[PathNames.folder(of: normalized)] else { return nil }
        return normalized == "/" ? "/" : PathNames.join(folder, PathNames.name(of: normalized))
    }

    /// Whether the action may change what paths resolve through (a link made or replaced), or
    /// show through other names (a hard-linked file): then nothing is precise. A path that was
    /// not freshly observed counts as possibly either.
    private func mayChangeLinks(_ action: Action, _ path: String) -> Bool {
        if case .symlink = action { return true }
        let observations = [Observation.file(path: path, content: false), .file(path: path, content: true)]
        guard observations.contains(where: isFresh) else { return true }
        guard let state = known.files[path] else { return false }
        return state.kind == .link || (state.kind != .directory && state.links > 1)
    }
}

extension Observation {
    /// The path a file or target observation looks at.
    var path: String? {
        switch self {
        case .file(let path, _), .target(let path): return path
        case .command: return nil
        }
    }
}

extension Action {
    /// The one path a file action changes; nil for a command, which may change anything.
    var changedPath: String? {
        switch self {
        case .writeFile(let path, _, _, _), .remove(let path), .makeDirectory(let path, _), .setAttributes(let path, _),
             .touch(let path), .symlink(let path, _):
            return path
        case .run:
            return nil
        }
    }
}
