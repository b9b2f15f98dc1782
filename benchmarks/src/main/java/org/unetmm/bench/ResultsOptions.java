package org.unetmm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every command that writes results shares: the terminal format and the results folder. */
class ResultsOptions {
    @Option(names = "--format", description = "terminal output: table or csv, or json where the command says so"
            + " (default ${DEFAULT-VALUE})", defaultValue = "table")
    String format;

    @Option(names = "--results", description = "results folder (default ${DEFAULT-VALUE})", defaultValue = "results")
    Path results;

    /** Checks the options (table or csv); the message of the exception says what was wrong. */
    void validate(CommandLine commandLine) {
        validate(commandLine, false);
    }

    /** Checks the options, json allowed when {@code json}; the message of the exception says what was wrong. */
    void validate(CommandLine commandLine, boolean json) {
        if (!format.equals("table") && !format.equals("csv") && !(json && format.equals("json"))) {
            throw new CommandLine.ParameterException(commandLine, "--format must be 'table'" + (json ? ", 'csv' or 'json'"
                    : " or 'csv' (this command writes no json)") + ", got '" + format + "'");
        }
    }

    boolean json() {
        return format.equals("json");
    }

    boolean csv() {
        return format.equals("csv");
    }

    /**
     * Ends a run: {@code run.json} finished with {@code end} (repeats, their durations, notes), the
     * document built from the finished record written to {@code dir/name}, and printed when the
     * format is json, or the {@code csv} lines when it is csv (a table the command printed itself);
     * both files named on stderr.
     */
    void finish(RunRecord record, Path dir, String name, Map<String, Object> end,
                Function<Map<String, Object>, Map<String, Object>> document, Supplier<List<String>> csv) throws IOException {
        record.finish(end);
        String text = RunRecord.JSON.writeValueAsString(document.apply(record.asMap()));
        Files.writeString(dir.resolve(name), text + "\n");
        if (json()) {
            System.out.println(text);
        } else if (csv()) {
            csv.get().forEach(System.out::println);
        }
        System.out.flush();
        System.err.println(record.asMap().get("command") + ": results " + dir.resolve(name) + ", " + dir.resolve("run.json"));
    }
}
