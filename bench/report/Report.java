import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.DoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Turns the raw output of one benchmark run (written by bench/run.sh into OUTDIR) into the two committed
 * files bench/RESULTS.md and bench/latency.svg under REPO_ROOT.
 *
 * <p>Usage: {@code java bench/report/Report.java OUTDIR REPO_ROOT}. Single file, JDK only, so that the run
 * script needs nothing beyond the JDK it already uses.
 *
 * <p>Inputs, each of them optional (a missing one makes its figures "not measured", never an error):
 * <ul>
 *   <li>{@code OUTDIR/machine.txt}: {@code key=value} lines describing the machine and the run;
 *   <li>{@code OUTDIR/figures.tsv}: {@code id median min max n unit}, tab separated, the last line of an id wins;
 *   <li>{@code OUTDIR/latency/*.tsv}: {@code percentile millis} per line, an optional first {@code # title};
 *   <li>{@code REPO_ROOT/bench/analysis.md}: hand-written text appended at the end.
 * </ul>
 */
public final class Report {

    // Non-ASCII characters are written as escapes so the source launcher reads this file the same whatever
    // the locale's default encoding is; the output is always written as UTF-8.
    static final String NO_TARGET = "\u2014";
    static final String EN_DASH = "\u2013";
    static final String GE = "\u2265";
    static final String LE = "\u2264";
    static final String MINUS = "\u2212";
    static final String TIMES = "\u00d7";
    static final String NOT_MEASURED = "not measured";

    private Report() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java bench/report/Report.java OUTDIR REPO_ROOT");
            System.exit(2);
        }
        Path outDir = Path.of(args[0]);
        Path bench = Path.of(args[1]).resolve("bench");
        Run run = Run.read(outDir, bench.resolve("analysis.md"));
        Files.createDirectories(bench);
        Files.writeString(bench.resolve("RESULTS.md"), new Markdown(run).render(), StandardCharsets.UTF_8);
        Files.writeString(bench.resolve("latency.svg"), new Svg(run).render(), StandardCharsets.UTF_8);
        System.out.println("wrote " + bench.resolve("RESULTS.md") + " and " + bench.resolve("latency.svg"));
    }

    // ---------------------------------------------------------------------------------------------------
    // Parsed data

    /** One line of figures.tsv: a median over {@code n} rounds and the spread of those rounds. */
    record Figure(String id, double median, double min, double max, int n, String unit) {
    }

    /** One point of a latency spectrum: the latency in milliseconds at a percentile in 0..100. */
    record Point(double percentile, double millis) {
    }

    /** One latency spectrum, named after its file; the label is the file's {@code # title} or the name. */
    record Series(String name, String label, List<Point> points) {
    }

    /** Everything one report is made from. An absent input is an empty map, list or optional. */
    record Run(Map<String, String> machine, Map<String, Figure> figures, List<Series> series,
               Optional<String> analysis) {

        static Run read(Path outDir, Path analysisFile) throws IOException {
            return new Run(
                    Parse.machine(outDir.resolve("machine.txt")),
                    Parse.figures(outDir.resolve("figures.tsv")),
                    Parse.allSeries(outDir.resolve("latency")),
                    Files.isRegularFile(analysisFile)
                            ? Optional.of(Files.readString(analysisFile, StandardCharsets.UTF_8))
                            : Optional.empty());
        }

        boolean smoke() {
            return "smoke".equals(machine.get("mode"));
        }
    }

    /** Readers for the raw files. A malformed line is reported on stderr and skipped, not fatal. */
    static final class Parse {
        private Parse() {
        }

        static Map<String, String> machine(Path file) throws IOException {
            Map<String, String> machine = new LinkedHashMap<>();
            for (String line : lines(file)) {
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    warn(file, line);
                    continue;
                }
                machine.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
            return machine;
        }

        /** Several scripts append to the file, and a re-run of one appends again: the last line of an id wins. */
        static Map<String, Figure> figures(Path file) throws IOException {
            Map<String, Figure> figures = new LinkedHashMap<>();
            for (String line : lines(file)) {
                String[] f = line.split("\t", -1);
                try {
                    if (f.length < 6) {
                        throw new NumberFormatException("want 6 fields, got " + f.length);
                    }
                    Figure figure = new Figure(f[0].trim(), number(f[1]), number(f[2]), number(f[3]),
                            Integer.parseInt(f[4].trim()), f[5].trim());
                    figures.remove(figure.id()); // so that the order is that of the lines that won
                    figures.put(figure.id(), figure);
                } catch (NumberFormatException e) {
                    warn(file, line);
                }
            }
            return figures;
        }

        static List<Series> allSeries(Path dir) throws IOException {
            if (!Files.isDirectory(dir)) {
                return List.of();
            }
            List<Path> files;
            try (Stream<Path> listing = Files.list(dir)) {
                files = listing.filter(p -> p.getFileName().toString().endsWith(".tsv")).sorted().toList();
            }
            List<Series> series = new ArrayList<>();
            for (Path file : files) {
                series.add(series(file));
            }
            return series;
        }

        static Series series(Path file) throws IOException {
            String fileName = file.getFileName().toString();
            String name = fileName.substring(0, fileName.length() - ".tsv".length());
            String label = name;
            List<Point> points = new ArrayList<>();
            List<String> raw = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < raw.size(); i++) {
                String line = raw.get(i).strip();
                if (line.startsWith("#")) {
                    if (i == 0 && line.length() > 1) {
                        label = line.substring(1).strip();
                    }
                    continue;
                }
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\t");
                try {
                    double percentile = number(f[0]);
                    if (f.length < 2 || percentile < 0 || percentile > 100) {
                        throw new NumberFormatException("not a percentile and a latency");
                    }
                    points.add(new Point(percentile, number(f[1])));
                } catch (NumberFormatException e) {
                    warn(file, line);
                }
            }
            return new Series(name, label, List.copyOf(points));
        }

        /** Non-blank, non-comment lines of a file, or none if it is missing. */
        private static List<String> lines(Path file) throws IOException {
            if (!Files.isRegularFile(file)) {
                System.err.println("report: " + file + " is missing, its figures are not measured");
                return List.of();
            }
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .toList();
        }

        private static double number(String s) {
            double v = Double.parseDouble(s.trim());
            if (!Double.isFinite(v)) {
                throw new NumberFormatException("not finite: " + s);
            }
            return v;
        }

        private static void warn(Path file, String line) {
            System.err.println("report: " + file + ": skipped malformed line: " + line);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Number formatting

    /** The formats RESULTS.md promises: rates with thousands separators, ms with one decimal below 100. */
    static final class Fmt {
        private Fmt() {
        }

        static String number(double v, String unit) {
            if (unit.endsWith("/s") || unit.equals("MiB") || unit.equals("count")) {
                return String.format(Locale.ROOT, "%,.0f", v);
            }
            if (unit.equals("ms")) {
                return String.format(Locale.ROOT, Math.abs(v) < 100 ? "%.1f" : "%,.0f", v);
            }
            return general(v);
        }

        /** For units this report does not know (JMH's ops/s, ns/op, ...): about three significant digits. */
        static String general(double v) {
            double a = Math.abs(v);
            if (a >= 100 || v == 0) {
                return String.format(Locale.ROOT, "%,.0f", v);
            }
            return String.format(Locale.ROOT, a >= 1 ? "%.2f" : "%.3g", v);
        }

        /** A count is dimensionless and reads better without its unit ("0", not "0 count"). */
        static String withUnit(double v, String unit) {
            String n = number(v, unit);
            return unit.isEmpty() || unit.equals("count") ? n : n + " " + unit;
        }

        /** "20,612 req/s (20,100–21,004, n=5)": the median first, then how far the rounds spread. */
        static String measured(Figure f) {
            String spread = f.n() > 1
                    ? number(f.min(), f.unit()) + EN_DASH + number(f.max(), f.unit()) + ", n=" + f.n()
                    : "n=" + f.n();
            return withUnit(f.median(), f.unit()) + " (" + spread + ")";
        }

        /** A target's limit: its exact value, grouped, no trailing zeros ("15,000 msg/s", "25 ms", "1.5"). */
        static String limit(double v, String unit) {
            BigDecimal exact = new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros();
            String n = String.format(Locale.ROOT, "%,." + Math.max(0, exact.scale()) + "f", exact);
            return unit.isEmpty() || unit.equals("count") ? n : n + " " + unit;
        }

        static String percent(double ratio) {
            return String.format(Locale.ROOT, "%.1f%%", ratio * 100);
        }

        static String times(double ratio) {
            return String.format(Locale.ROOT, "%.2f%s", ratio, TIMES);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Targets

    enum Verdict {
        MET("met"), MISSED("missed"), NOT_MEASURED(Report.NOT_MEASURED), INFO(NO_TARGET);

        final String text;

        Verdict(String text) {
            this.text = text;
        }

        static Verdict of(boolean met) {
            return met ? MET : MISSED;
        }
    }

    enum Bound {
        AT_LEAST(GE), AT_MOST(LE), EQUAL("=");

        final String symbol;

        Bound(String symbol) {
            this.symbol = symbol;
        }

        boolean holds(double value, double limit) {
            return switch (this) {
                case AT_LEAST -> value >= limit;
                case AT_MOST -> value <= limit;
                case EQUAL -> value == limit;
            };
        }
    }

    /** How a ratio between two figures is shown: a share ("87.3%") or a factor ("1.24×"). */
    enum RatioStyle {
        PERCENT, FACTOR;

        String format(double ratio) {
            return this == PERCENT ? Fmt.percent(ratio) : Fmt.times(ratio);
        }

        /** A target is a round number and reads better without the measured figure's decimals: "90%", "1.5×". */
        String limit(double ratio) {
            return this == PERCENT ? Fmt.limit(ratio * 100, "") + "%" : Fmt.limit(ratio, "") + TIMES;
        }
    }

    /**
     * One line of an area's table: what is measured in words, the figure ids it comes from, and, unless it
     * is informational ({@link #NO_TARGET}), the target and whether it was met.
     */
    record Row(String label, String ids, String measured, String target, Verdict verdict) {
        String figure() {
            return label + " " + ids;
        }

        boolean isTarget() {
            return verdict != Verdict.INFO;
        }
    }

    record Area(String title, String note, List<Row> rows) {
    }

    /** The targets of the benchmark plan, judged on a run's figures. */
    static final class Targets {
        private final Map<String, Figure> figures;

        Targets(Map<String, Figure> figures) {
            this.figures = figures;
        }

        List<Area> areas() {
            return List.of(intake(), endToEnd(), startup(), memory(), reload(), shared());
        }

        private Area intake() {
            return new Area("Durable intake",
                    "Closed-loop webhook POSTs, each answered 202 only once the message is in the journal. "
                            + "The ceiling is a bare server on the same machine whose only work is one group "
                            + "fdatasync per batch of requests: no durable intake can beat it.",
                    List.of(
                            info("Durable-ack ceiling (bare server, group fdatasync)", "intake.ceiling.durable"),
                            info("No-op ceiling (the same server answering at once)", "intake.ceiling.sync"),
                            ratio("Ferry intake, sync=full, share of the durable-ack ceiling",
                                    "intake.full", "intake.ceiling.durable", Bound.AT_LEAST, 0.90,
                                    RatioStyle.PERCENT),
                            absolute("Ferry intake, sync=full", "intake.full", Bound.AT_LEAST, 15_000, "msg/s"),
                            infoRatio("Ferry intake, sync=normal, share of the durable-ack ceiling",
                                    "intake.normal", "intake.ceiling.durable", RatioStyle.PERCENT),
                            info("Ack latency p99, sync=full", "intake.full.p99"),
                            info("Ack latency p99, sync=normal", "intake.normal.p99"),
                            info("Ack latency p99, durable-ack ceiling", "intake.ceiling.durable.p99")));
        }

        private Area endToEnd() {
            String rate = figure("e2e.rate")
                    .map(f -> " (" + Fmt.withUnit(f.median(), f.unit()) + ")")
                    .orElse(" (rate " + NOT_MEASURED + ")");
            return new Area("End to end",
                    "Webhook POST to the reply arriving at the sink, through debouncing, the turn and delivery. "
                            + "The latency figures are taken at a paced rate of half the sustained one, each "
                            + "counted from its planned send time so that a sender falling behind shows.",
                    List.of(
                            absolute("Sustained replies", "e2e.sustained", Bound.AT_LEAST, 5_000, "replies/s"),
                            info("Paced rate (half the sustained)", "e2e.rate"),
                            info("p50 at the paced rate", "e2e.p50"),
                            absolute("p99 at the paced rate" + rate, "e2e.p99", Bound.AT_MOST, 25, "ms"),
                            info("p99.9 at the paced rate", "e2e.p999"),
                            info("Max at the paced rate", "e2e.max"),
                            absolute("Dropped messages", "e2e.dropped", Bound.EQUAL, 0, "count")));
        }

        private Area startup() {
            return new Area("Start-up",
                    "Spawn to the first GET /healthz answered 200. The floor is a bare Javalin server on the same "
                            + "jar and JVM flags; rounds alternate between the two.",
                    List.of(
                            info("Bare Javalin, with its class-data archive", "startup.bare.cds"),
                            ratio("Gateway with its class-data archive, against the bare server with one",
                                    "startup.gateway.cds", "startup.bare.cds", Bound.AT_MOST, 1.5,
                                    RatioStyle.FACTOR),
                            absolute("Gateway with its class-data archive", "startup.gateway.cds",
                                    Bound.AT_MOST, 1000, "ms"),
                            info("Bare Javalin, no archive", "startup.bare"),
                            info("Gateway, no archive", "startup.gateway"),
                            infoRatio("Gateway against the bare server, no archives",
                                    "startup.gateway", "startup.bare", RatioStyle.FACTOR)));
        }

        private Area memory() {
            return new Area("Memory",
                    "Resident set size of the gateway process. Sessions are judged by what they add over the"
                            + " same number of messages through 10 conversations, which grows the heap and code alike.",
                    List.of(
                            absolute("Idle RSS", "memory.idle", Bound.AT_MOST, 120, "MiB"),
                            info("RSS after 10k messages over 10 conversations", "memory.traffic10k"),
                            info("RSS with 10k sessions more", "memory.sessions10k"),
                            difference("RSS growth for 10k sessions, over the same traffic through 10",
                                    "memory.sessions10k", "memory.traffic10k", Bound.AT_MOST, 40, "MiB"),
                            infoDifference("RSS growth from idle, traffic and sessions together",
                                    "memory.sessions10k", "memory.idle", "MiB"),
                            info("RSS after 1M messages", "memory.after1m"),
                            info("Journal file after 1M messages", "memory.journal1m"),
                            info("RSS after reopening the 1M-message journal", "memory.reopen1m"),
                            info("Opening the 1M-message journal (spawn to healthz)", "memory.open1m"),
                            info("Opening an empty journal (spawn to healthz)", "memory.open0"),
                            infoRatio("Opening the 1M-message journal against an empty one",
                                    "memory.open1m", "memory.open0", RatioStyle.FACTOR)));
        }

        private Area reload() {
            return new Area("Reload",
                    "Webhook latency under steady load between reloads and while SIGUSR1 reloads run.",
                    List.of(
                            info("p50 between reloads", "reload.between.p50"),
                            info("p50 during reloads", "reload.during.p50"),
                            info("p99 between reloads", "reload.between.p99"),
                            info("p99 during reloads", "reload.during.p99"),
                            ratio("p99 during reloads against p99 between them",
                                    "reload.during.p99", "reload.between.p99", Bound.AT_MOST, 2,
                                    RatioStyle.FACTOR),
                            absolute("Requests refused", "reload.refused", Bound.EQUAL, 0, "count"),
                            info("Reloads done", "reload.reloads"),
                            info("SIGUSR1 to serving the new generation", "reload.latency")));
        }

        private Area shared() {
            return new Area("One journal, several gateways",
                    "One gateway on SQLite beside one and three on one PostgreSQL (a throwaway cluster on tmpfs, "
                            + "fsync on), in the same run: intake with the debouncer holding every message, and "
                            + "replies with one message in flight per session, each message to the next gateway in "
                            + "turn. On two cores three gateways share them with each other and the database.",
                    List.of(
                            info("Intake, SQLite, 1 gateway", "shared.sqlite.1.intake"),
                            info("Intake, PostgreSQL, 1 gateway", "shared.postgres.1.intake"),
                            info("Intake, PostgreSQL, 3 gateways", "shared.postgres.3.intake"),
                            infoRatio("Intake, PostgreSQL x1 against SQLite", "shared.postgres.1.intake",
                                    "shared.sqlite.1.intake", RatioStyle.PERCENT),
                            info("Replies, SQLite, 1 gateway", "shared.sqlite.1.e2e"),
                            info("Replies, PostgreSQL, 1 gateway", "shared.postgres.1.e2e"),
                            info("Replies, PostgreSQL, 3 gateways", "shared.postgres.3.e2e"),
                            infoRatio("Replies, PostgreSQL x3 against x1", "shared.postgres.3.e2e",
                                    "shared.postgres.1.e2e", RatioStyle.PERCENT)));
        }

        private Optional<Figure> figure(String id) {
            return Optional.ofNullable(figures.get(id));
        }

        private Row info(String label, String id) {
            return new Row(label, "`" + id + "`",
                    figure(id).map(Fmt::measured).orElse(NOT_MEASURED), NO_TARGET, Verdict.INFO);
        }

        private Row absolute(String label, String id, Bound bound, double limit, String unit) {
            String target = bound.symbol + " " + Fmt.limit(limit, unit);
            return figure(id)
                    .map(f -> new Row(label, "`" + id + "`", Fmt.measured(f), target,
                            Verdict.of(bound.holds(f.median(), limit))))
                    .orElse(new Row(label, "`" + id + "`", NOT_MEASURED, target, Verdict.NOT_MEASURED));
        }

        /** A ratio of two medians, e.g. intake against its ceiling; a zero denominator counts as not measured. */
        private Row ratio(String label, String numId, String denId, Bound bound, double limit, RatioStyle style) {
            String ids = "`" + numId + "` / `" + denId + "`";
            String target = bound.symbol + " " + style.limit(limit);
            return ratioOf(numId, denId)
                    .map(v -> new Row(label, ids, ratioMeasured(v, numId, denId, style), target,
                            Verdict.of(bound.holds(v, limit))))
                    .orElse(new Row(label, ids, NOT_MEASURED, target, Verdict.NOT_MEASURED));
        }

        private Row infoRatio(String label, String numId, String denId, RatioStyle style) {
            String ids = "`" + numId + "` / `" + denId + "`";
            return new Row(label, ids, ratioOf(numId, denId).map(v -> ratioMeasured(v, numId, denId, style))
                    .orElse(NOT_MEASURED), NO_TARGET, Verdict.INFO);
        }

        private Optional<Double> ratioOf(String numId, String denId) {
            return figure(numId).flatMap(n -> figure(denId)
                    .filter(d -> d.median() != 0)
                    .map(d -> n.median() / d.median()));
        }

        /** "87.3% (18,000 msg/s / 20,612 req/s)": the ratio, then the two medians it is made of. */
        private String ratioMeasured(double ratio, String numId, String denId, RatioStyle style) {
            Figure n = figures.get(numId);
            Figure d = figures.get(denId);
            return style.format(ratio) + " (" + Fmt.withUnit(n.median(), n.unit()) + " / "
                    + Fmt.withUnit(d.median(), d.unit()) + ")";
        }

        private Row difference(String label, String id, String baseId, Bound bound, double limit, String unit) {
            String target = bound.symbol + " " + Fmt.limit(limit, unit);
            return differenceRow(label, id, baseId, unit, target, delta -> Verdict.of(bound.holds(delta, limit)));
        }

        private Row infoDifference(String label, String id, String baseId, String unit) {
            return differenceRow(label, id, baseId, unit, NO_TARGET, delta -> Verdict.INFO);
        }

        /** "21.5 MiB (139.0 − 117.5)": the difference of two medians, then the medians. */
        private Row differenceRow(String label, String id, String baseId, String unit, String target,
                                  DoubleFunction<Verdict> verdict) {
            String ids = "`" + id + "` " + MINUS + " `" + baseId + "`";
            return figure(id).flatMap(a -> figure(baseId).map(b -> {
                double delta = a.median() - b.median();
                String measured = Fmt.withUnit(delta, unit) + " (" + Fmt.number(a.median(), a.unit()) + " "
                        + MINUS + " " + Fmt.number(b.median(), b.unit()) + ")";
                return new Row(label, ids, measured, target, verdict.apply(delta));
            })).orElse(new Row(label, ids, NOT_MEASURED, target,
                    target.equals(NO_TARGET) ? Verdict.INFO : Verdict.NOT_MEASURED));
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // RESULTS.md

    static final class Markdown {
        /** Every id the target tables show; any other non-JMH id goes to "Other figures". */
        private static final Set<String> KNOWN = Set.of(
                "intake.ceiling.durable", "intake.ceiling.sync", "intake.full", "intake.normal",
                "intake.full.p99", "intake.normal.p99", "intake.ceiling.durable.p99",
                "startup.gateway.cds", "startup.gateway", "startup.bare.cds", "startup.bare",
                "e2e.sustained", "e2e.rate", "e2e.p50", "e2e.p99", "e2e.p999", "e2e.max", "e2e.dropped",
                "memory.idle", "memory.traffic10k", "memory.sessions10k", "memory.after1m", "memory.open1m", "memory.open0",
                "memory.journal1m", "memory.reopen1m",
                "reload.between.p99", "reload.during.p99", "reload.between.p50", "reload.during.p50",
                "reload.refused", "reload.reloads", "reload.latency");

        private static final Map<String, String> MACHINE_LABELS = orderedLabels();

        private final Run run;
        private final List<Area> areas;
        private final StringBuilder md = new StringBuilder();

        Markdown(Run run) {
            this.run = run;
            this.areas = new Targets(run.figures()).areas();
        }

        private static Map<String, String> orderedLabels() {
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("date", "Date");
            labels.put("commit", "Commit");
            labels.put("cores", "Cores");
            labels.put("cpu", "CPU");
            labels.put("memory", "Memory");
            labels.put("kernel", "Kernel");
            labels.put("jdk", "JDK");
            labels.put("duration_s", "Duration (s)");
            labels.put("mode", "Mode");
            return labels;
        }

        String render() {
            header();
            machine();
            summary();
            areas.forEach(this::area);
            picture();
            jmh();
            otherFigures();
            analysis();
            return md.toString();
        }

        private void header() {
            line("# Ferry benchmark results");
            line("");
            if (run.smoke()) {
                line("**This was a smoke run: a seconds-long pass that checks the benchmarks work. "
                        + "Its figures mean nothing.**");
                line("");
            }
            line("This file is generated by `bench/run.sh` (through `bench/report/Report.java`) from the raw "
                    + "figures of one run: do not edit it by hand. The analysis section at the end comes from "
                    + "`bench/analysis.md`. Every figure is the median over rounds that alternate with their "
                    + "baseline, followed by the min" + EN_DASH + "max spread of those rounds and their "
                    + "number n.");
            line("");
        }

        private void machine() {
            line("## Machine and run");
            line("");
            if (run.machine().isEmpty()) {
                line("Machine and run: " + NOT_MEASURED + ".");
                line("");
                return;
            }
            line("| | |");
            line("|---|---|");
            MACHINE_LABELS.forEach((key, label) -> row(label, run.machine().getOrDefault(key, NOT_MEASURED)));
            run.machine().forEach((key, value) -> {
                if (!MACHINE_LABELS.containsKey(key)) {
                    row("`" + key + "`", value);
                }
            });
            line("");
        }

        private void summary() {
            line("## Summary");
            line("");
            line("| Target | Figure | Verdict |");
            line("|---|---|---|");
            for (Area area : areas) {
                for (Row r : area.rows()) {
                    if (r.isTarget()) {
                        row(area.title() + ": " + r.label() + " " + r.target(), r.measured(), r.verdict().text);
                    }
                }
            }
            line("");
        }

        private void area(Area area) {
            line("## " + area.title());
            line("");
            line(area.note());
            line("");
            line("| Figure | Measured: median (min" + EN_DASH + "max, n) | Target | Verdict |");
            line("|---|---|---|---|");
            for (Row r : area.rows()) {
                row(r.figure(), r.measured(), r.target(), r.verdict().text);
            }
            line("");
        }

        private void picture() {
            line("## Latency distributions");
            line("");
            line("![Latency distributions](latency.svg)");
            line("");
            line("Latency against percentile, HdrHistogram style: each step to the right on the x axis is ten "
                    + "times rarer than the one before, so the tail gets as much room as the body.");
            line("");
        }

        private void jmh() {
            line("## Micro-benchmarks (JMH)");
            line("");
            List<Figure> jmh = run.figures().values().stream().filter(f -> f.id().startsWith("jmh.")).toList();
            if (jmh.isEmpty()) {
                line(NOT_MEASURED + ".");
                line("");
                return;
            }
            line("| Benchmark | Score | Unit |");
            line("|---|---|---|");
            for (Figure f : jmh) {
                String spread = f.n() > 1
                        ? " (" + Fmt.general(f.min()) + EN_DASH + Fmt.general(f.max()) + ", n=" + f.n() + ")"
                        : "";
                row("`" + f.id() + "`", Fmt.general(f.median()) + spread, f.unit());
            }
            line("");
        }

        private void otherFigures() {
            List<Figure> other = run.figures().values().stream()
                    .filter(f -> !KNOWN.contains(f.id()) && !f.id().startsWith("jmh."))
                    .toList();
            if (other.isEmpty()) {
                return;
            }
            line("## Other figures");
            line("");
            line("| Id | Median | Min | Max | n | Unit |");
            line("|---|---|---|---|---|---|");
            for (Figure f : other) {
                row("`" + f.id() + "`", Fmt.number(f.median(), f.unit()), Fmt.number(f.min(), f.unit()),
                        Fmt.number(f.max(), f.unit()), Integer.toString(f.n()), f.unit());
            }
            line("");
        }

        /** The hand-written analysis goes in verbatim; it gets the heading only if it has none of its own. */
        private void analysis() {
            run.analysis().map(String::strip).filter(s -> !s.isEmpty()).ifPresent(text -> {
                if (!text.startsWith("## ")) {
                    line("## What limits the targets that are missed");
                    line("");
                }
                line(text);
            });
        }

        private void row(String... cells) {
            line(Stream.of(cells).map(Markdown::cell).collect(Collectors.joining(" | ", "| ", " |")));
        }

        /** A pipe would end the cell and a newline the table. */
        private static String cell(String s) {
            return s.replace("|", "\\|").replace("\r", " ").replace("\n", " ");
        }

        private void line(String s) {
            md.append(s).append('\n');
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // latency.svg

    /** Hand-written SVG 1.1: one panel per group of series, stacked so that each is the full ~900 px wide. */
    static final class Svg {
        private static final int WIDTH = 900;
        private static final int HEADER = 56;
        private static final int PANEL_HEIGHT = 370;
        private static final int LEFT = 72;
        private static final int RIGHT = 28;
        private static final int TOP = 36;
        private static final int BOTTOM = 62;
        /** The x axis ends at 99.999%: five decades of 1/(1-p). */
        private static final int DECADES = 5;
        private static final String[] X_LABELS = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        /** Okabe-Ito, which stays distinct under the common colour-vision deficiencies; no yellow on white. */
        private static final String[] PALETTE = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00",
                "#56B4E9", "#000000"};
        /** Dashes as a second cue, for grey-scale prints and for the colours that are still close. */
        private static final String[] DASHES = {"", "7 4", "2 3", "9 3 2 3"};

        record Panel(String title, List<Series> series) {
        }

        private final Run run;
        private final StringBuilder svg = new StringBuilder();

        Svg(Run run) {
            this.run = run;
        }

        String render() {
            List<Panel> panels = panels(run.series());
            int height = HEADER + panels.size() * PANEL_HEIGHT;
            svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                    + "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
                    + "font-size=\"12\">\n", WIDTH, height, WIDTH, height));
            svg.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                    WIDTH, height));
            title();
            for (int i = 0; i < panels.size(); i++) {
                panel(panels.get(i), HEADER + i * PANEL_HEIGHT);
            }
            svg.append("</svg>\n");
            return svg.toString();
        }

        /** The two panels of the plan always; a third only if a series belongs to neither. */
        private static List<Panel> panels(List<Series> all) {
            List<Series> intake = all.stream().filter(s -> s.name().startsWith("intake")).toList();
            List<Series> e2e = all.stream().filter(s -> s.name().startsWith("e2e")).toList();
            List<Series> other = all.stream()
                    .filter(s -> !s.name().startsWith("intake") && !s.name().startsWith("e2e")).toList();
            List<Panel> panels = new ArrayList<>(List.of(
                    new Panel("Intake: webhook POST to 202 (closed loop)", intake),
                    new Panel("End to end: webhook POST to reply at the sink (paced)", e2e)));
            if (!other.isEmpty()) {
                panels.add(new Panel("Other latency series", other));
            }
            return panels;
        }

        private void title() {
            text(WIDTH / 2.0, 24, "middle", "font-size=\"18\" font-weight=\"bold\"", "Ferry latency distributions");
            Map<String, String> m = run.machine();
            List<String> facts = new ArrayList<>();
            if (m.containsKey("commit")) {
                facts.add("commit " + m.get("commit"));
            }
            if (m.containsKey("date")) {
                facts.add(m.get("date"));
            }
            if (m.containsKey("mode")) {
                facts.add(run.smoke() ? "SMOKE RUN: figures mean nothing" : m.get("mode") + " run");
            }
            if (!facts.isEmpty()) {
                text(WIDTH / 2.0, 42, "middle", "fill=\"#555555\"", String.join(", ", facts));
            }
        }

        private void panel(Panel panel, int top) {
            double x0 = LEFT;
            double y0 = top + TOP;
            double w = WIDTH - LEFT - RIGHT;
            double h = PANEL_HEIGHT - TOP - BOTTOM;
            text(x0, top + 22, "start", "font-size=\"14\" font-weight=\"bold\"", panel.title());
            double yMax = niceMax(panel.series());
            Plot plot = new Plot(x0, y0, w, h, yMax);
            xAxis(plot);
            if (panel.series().stream().allMatch(s -> s.points().isEmpty())) {
                frame(plot);
                text(x0 + w / 2, y0 + h / 2, "middle", "font-size=\"16\" fill=\"#777777\"", NOT_MEASURED);
                return;
            }
            yAxis(plot);
            frame(plot);
            for (int i = 0; i < panel.series().size(); i++) {
                polyline(plot, panel.series().get(i), i);
            }
            legend(plot, panel.series());
        }

        /** The plot area of a panel and its scales. */
        record Plot(double x0, double y0, double w, double h, double yMax) {
            /** Percentile 0..100 to pixels: log10 of 1/(1-p), so 90% is one decade, 99% two, and so on. */
            double x(double percentile) {
                double decades = percentile >= 100 ? DECADES
                        : Math.min(DECADES, Math.log10(100 / (100 - percentile)));
                return x0 + w * decades / DECADES;
            }

            double y(double millis) {
                return y0 + h - h * Math.max(0, millis) / yMax;
            }
        }

        private void xAxis(Plot p) {
            for (int d = 0; d <= DECADES; d++) {
                double x = p.x0() + p.w() * d / DECADES;
                line(x, p.y0(), x, p.y0() + p.h(), "#e3e3e3");
                text(x, p.y0() + p.h() + 17, "middle", "", X_LABELS[d]);
            }
            text(p.x0() + p.w() / 2, p.y0() + p.h() + 40, "middle", "fill=\"#333333\"",
                    "Percentile (log scale of 1/(1" + MINUS + "p): each tick is ten times rarer)");
        }

        private void yAxis(Plot p) {
            double step = niceStep(p.yMax());
            for (int k = 0; k * step <= p.yMax() * (1 + 1e-9); k++) {
                double v = k * step;
                double y = p.y(v);
                line(p.x0(), y, p.x0() + p.w(), y, "#e3e3e3");
                text(p.x0() - 8, y + 4, "end", "", tickLabel(v));
            }
            double cx = p.x0() - 52;
            double cy = p.y0() + p.h() / 2;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    + "fill=\"#333333\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
                    cx, cy, cx, cy, escape("Latency (ms)")));
        }

        private void frame(Plot p) {
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    + "fill=\"none\" stroke=\"#888888\"/>\n", p.x0(), p.y0(), p.w(), p.h()));
        }

        private void polyline(Plot p, Series s, int index) {
            StringBuilder points = new StringBuilder();
            for (Point pt : plotted(s.points())) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", p.x(pt.percentile()), p.y(pt.millis())));
            }
            String dash = DASHES[index / PALETTE.length % DASHES.length];
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    + "stroke-linejoin=\"round\"%s points=\"%s\"/>\n", colour(index),
                    dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"", points.toString().strip()));
        }

        /**
         * The points that go on the axis. Percentile 100 (the max) has no place on a log scale of 1/(1-p): it
         * goes at the last tick if the series stops short of it, and is dropped if the series already reaches it.
         */
        private static List<Point> plotted(List<Point> points) {
            boolean reachesEnd = points.stream()
                    .anyMatch(pt -> pt.percentile() < 100 && Math.log10(100 / (100 - pt.percentile())) >= DECADES - 1e-9);
            return points.stream().filter(pt -> pt.percentile() < 100 || !reachesEnd).toList();
        }

        private void legend(Plot p, List<Series> series) {
            int longest = series.stream().mapToInt(s -> s.label().length()).max().orElse(0);
            double w = 44 + longest * 6.8;
            double h = 10 + series.size() * 18;
            double x = p.x0() + 10;
            double y = p.y0() + 10;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    + "fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n", x, y, w, h));
            for (int i = 0; i < series.size(); i++) {
                double ly = y + 14 + i * 18;
                String dash = DASHES[i / PALETTE.length % DASHES.length];
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        + "stroke=\"%s\" stroke-width=\"2.5\"%s/>\n", x + 8, ly - 4, x + 32, ly - 4, colour(i),
                        dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\""));
                text(x + 38, ly, "start", "", series.get(i).label());
            }
        }

        private static String colour(int index) {
            return PALETTE[index % PALETTE.length];
        }

        /** A round top for the y axis just above the panel's largest latency. */
        private static double niceMax(List<Series> series) {
            double max = series.stream().flatMap(s -> plotted(s.points()).stream())
                    .mapToDouble(Point::millis).max().orElse(0);
            if (max <= 0) {
                return 1;
            }
            double step = niceStep(max);
            return Math.ceil(max / step - 1e-9) * step;
        }

        /** 1, 2, 2.5 or 5 times a power of ten, for about five to ten gridlines. */
        private static double niceStep(double max) {
            double raw = max / 6;
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double r = raw / magnitude;
            double nice = r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10;
            return nice * magnitude;
        }

        /** Rounded to six significant digits so that 3 × 0.1 prints as 0.3. */
        private static String tickLabel(double v) {
            if (v == 0) {
                return "0";
            }
            return new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
        }

        private void line(double x1, double y1, double x2, double y2, String stroke) {
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    + "stroke=\"%s\"/>\n", x1, y1, x2, y2, stroke));
        }

        private void text(double x, double y, String anchor, String attributes, String content) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>%s</text>\n",
                    x, y, anchor, attributes.isEmpty() ? "" : " " + attributes, escape(content)));
        }

        static String escape(String s) {
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\"", "&quot;").replace("'", "&apos;");
        }
    }
}
