import Foundation

/// A systemd manager: the system's, or one user's (reached through `runner`, a command prefix that
/// runs what follows as that user with their `XDG_RUNTIME_DIR`).
public struct SystemdManager: Hashable, Sendable, CustomStringConvertible {
    /// nil for the system manager.
    public var user: String?
    /// Prefix for commands that must run as the manager's user (empty for the system manager).
    public var runner: [String]

    public init(user: String? = nil, runner: [String] = []) {
        self.user = user
        self.runner = runner
    }

    public static let system = SystemdManager()

    /// `systemctl` for this manager, followed by `arguments`.
    public func systemctl(_ arguments: [String]) -> [String] {
        runner + ["systemctl"] + (user == nil ? [] : ["--user"]) + arguments
    }

    /// The command that runs `systemctl ARGUMENTS` here, shown as what it does.
    public func systemctlCommand(_ arguments: [String]) -> Command {
        let shown = (["systemctl"] + (user == nil ? [] : ["--user"]) + arguments).joined(separator: " ")
        return Command(systemctl(arguments), label: user.map { "as \($0): \(shown)" } ?? shown)
    }

    public var description: String { user.map { "\($0)'s user manager" } ?? "the system manager" }
}

/// Unit work a module leaves to the engine, so that a play makes one `daemon-reload` per manager and
/// then (re)starts exactly the units that need it, together, instead of one reload per task.
public struct UnitRequest: Hashable, Sendable {
    public enum Operation: String, Sendable {
        /// The unit's definition changed: restart it (a stopped unit is started).
        case restart
        /// The unit is unchanged but not running.
        case start
    }

    public var manager: SystemdManager
    /// The unit (`name.service`); nil for a reload alone (a unit file was removed).
    public var unit: String?
    public var operation: Operation?
    /// Unit files of this manager changed: daemon-reload before any (re)start.
    public var reload: Bool
    /// Order among units (lower first): what others depend on (volumes, networks) before what uses it.
    public var rank: Int
    /// Seconds to wait until the unit is active.
    public var timeout: Int

    public init(manager: SystemdManager, unit: String? = nil, operation: Operation? = nil, reload: Bool,
                rank: Int = 0, timeout: Int = 120) {
        self.manager = manager
        self.unit = unit
        self.operation = operation
        self.reload = reload
        self.rank = rank
        self.timeout = timeout
    }
}

/// The requests of a host's tasks, carried out together when the play next needs running services
/// (DESIGN §3 "Handlers and systemd"): per manager one daemon-reload, then one restart command, one start
/// command, and a wait until every unit is active, with the failing unit's journal tail on error.
struct ServiceRestarts {
    struct Pending {
        var runAs: Become?
        var manager: SystemdManager
        var requests: [(request: UnitRequest, origin: String)] = []
    }

    private(set) var pending: [Pending] = []

    var isEmpty: Bool { pending.isEmpty }

    /// `origin` says which task asked (file:line), for error messages.
    mutating func queue(_ requests: [UnitRequest], runAs: Become?, origin: String) {
        for request in requests {
            if let index = pending.firstIndex(where: { $0.runAs == runAs && $0.manager == request.manager }) {
                pending[index].requests.append((request, origin))
            } else {
                pending.append(Pending(runAs: runAs, manager: request.manager, requests: [(request, origin)]))
            }
        }
    }

    mutating func take() -> [Pending] {
        defer { pending = [] }
        return pending
    }

    /// The commands for one manager, in order: reload, restarts, starts, then the wait; each with
    /// the line `-v` shows for it.
    static func commands(_ group: Pending) -> [(label: String, command: Command)] {
        let manager = group.manager
        var commands: [Command] = []
        if group.requests.contains(where: { $0.request.reload }) {
            commands.append(manager.systemctlCommand(["daemon-reload"]))
        }
        let ordered = group.requests.enumerated().sorted {
            ($0.element.request.rank, $0.offset) < ($1.element.request.rank, $1.offset)
        }.map(\.element.request)
        var seen = Set<String>()
        var restart: [String] = [], start: [String] = []
        for request in ordered {
            guard let unit = request.unit, let operation = request.operation else { continue }
            // A unit asked to restart by one task and to start by another is restarted once.
            if operation == .restart { restart.append(unit) } else { start.append(unit) }
        }
        start.removeAll { restart.contains($0) }
        restart = restart.filter { seen.insert($0).inserted }
        start = start.filter { seen.insert($0).inserted }
        // --no-block: the jobs are queued together and run in their dependency order.
        if !restart.isEmpty { commands.append(manager.systemctlCommand(["restart", "--no-block"] + restart)) }
        if !start.isEmpty { commands.append(manager.systemctlCommand(["start", "--no-block"] + start)) }
        var steps = commands.map { (label: Action.run($0).summary, command: $0) }
        let units = restart + start
        if !units.isEmpty {
            let timeout = group.requests.map(\.request.timeout).max() ?? 120
            steps.append((label: "wait until active (\(timeout) s): " + units.joined(separator: " "),
                          command: Command(["/bin/sh", "-c", waitScript, "wait", String(timeout), manager.user == nil ? "system" : "user",
                                            String(units.count)] + units + manager.runner)))
        }
        return steps
    }

    /// Waits until every unit is active with no job pending; on failure or timeout prints each unit's
    /// state and journal tail on stderr and exits 1. Arguments: TIMEOUT SCOPE N UNIT... RUNNER...
    static let waitScript = #"""
    t=$1 scope=$2 n=$3; shift 3
    units=; while [ "$n" -gt 0 ]; do units="$units $1"; shift; n=$((n-1)); done
    flag=; [ "$scope" = user ] && flag=--user
    end=$(( $(date +%s) + t )) timedout= seen=
    while :; do
      pending= bad=
      for u in $units; do
        active= job=
        for line in $("$@" systemctl $flag show -p ActiveState -p Job -- "$u" 2>/dev/null); do
          case $line in ActiveState=*) active=${line#ActiveState=} ;; Job=*) job=${line#Job=} ;; esac
        done
        # A queued job (the restart just asked for) means the state shown is the old one.
        if [ -n "$job" ]; then pending="$pending $u"; continue; fi
        case $active in
          active) ;;
          failed|inactive) bad="$bad $u" ;;
          *) pending="$pending $u" ;;
        esac
      done
      [ -n "$bad" ] && break
      # Active once may be a container that exits at once: active twice, a second apart, counts.
      if [ -z "$pending" ]; then [ -n "$seen" ] && exit 0; seen=1; sleep 1; continue; fi
      seen=
      if [ "$(date +%s)" -ge "$end" ]; then bad=$pending timedout=1; break; fi
      sleep 0.3
    done
    for u in $bad; do
      state=$("$@" systemctl $flag show -p ActiveState -p SubState -p Result -- "$u" 2>/dev/null | tr '\n' ' ')
      if [ -n "$timedout" ]; then echo "$u is not active after $t s ($state)" >&2
      else echo "$u did not start ($state)" >&2; fi
      echo "journal of $u:" >&2
      # Not --user-unit: it also matches the caller's uid (root's), so it finds nothing of another account's units.
      if [ "$scope" = user ]; then journalctl --no-pager -q -n 15 _SYSTEMD_USER_UNIT="$u" + USER_UNIT="$u" >&2 2>/dev/null
      else journalctl --no-pager -q -n 15 -u "$u" >&2 2>/dev/null; fi
    done
    exit 1
    """#

    /// One line for the report: what was done for this manager.
    static func summary(_ group: Pending) -> String {
        var parts: [String] = []
        if group.requests.contains(where: { $0.request.reload }) { parts.append("daemon-reload") }
        let units = Array(Set(group.requests.compactMap { $0.request.operation == nil ? nil : $0.request.unit })).sorted()
        if !units.isEmpty { parts.append("(re)started " + units.joined(separator: " ")) }
        return "\(group.manager): " + parts.joined(separator: ", ")
    }
}

extension HostRun {
    /// Carries out the queued unit work now: before a task that may need running services, and before
    /// the handlers (the end of the play, `meta: flush_handlers`). Shown as a task of its own.
    func settleUnits() {
        guard !stopped, !restarts.isEmpty else { return }
        let title = "systemd: daemon-reload and (re)start changed units"
        reporter.taskStarted(title, handler: false, host: host)
        let start = Date()
        var report = TaskReport(host: host, task: title, status: .changed)
        do {
            groups: for group in restarts.take() {
                let transport = try transport(group.runAs)
                for (summary, command) in ServiceRestarts.commands(group) {
                    report.commands.append(summary)
                    guard let output = try transport.perform(.run(command)).output, output.status != 0 else { continue }
                    let origins = Set(group.requests.map(\.origin)).sorted().joined(separator: ", ")
                    let detail = (output.stderr.isEmpty ? output.stdout : output.stderr).trimmingTrailingNewline
                    report.status = .failed
                    report.message = "\(group.manager): '\(summary)' failed (units of the tasks at \(origins)):\n\(detail)"
                    break groups
                }
                report.changes.append(ServiceRestarts.summary(group))
            }
        } catch let error as TransportError where error.unreachable {
            report.status = .unreachable
            report.message = error.message
            unreachable = true
        } catch {
            report.status = .failed
            report.message = "\(error)"
        }
        invalidateObservations()
        report.seconds = Date().timeIntervalSince(start)
        reporter.report(report)
        switch report.status {
        case .failed:
            stats.failed += 1
            failed = true
        case .unreachable:
            stats.unreachable += 1
        default:
            stats.changed += 1
            stats.ok += 1
        }
    }
}
