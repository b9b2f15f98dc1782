package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a user meets it: --version from the build, examples in every --help, sizes and impossible values. */
@Timeout(60)
class CommandLineTest {
    /** Every command and subcommand, by its qualified name ("unetmm pingpong compare"), help left out. */
    private static List<CommandLine> commands() {
        List<CommandLine> all = new ArrayList<>();
        collect(new CommandLine(new UnetmmCommand()), all);
        return all;
    }

    private static void collect(CommandLine command, List<CommandLine> into) {
        if (!command.getCommandName().equals("help")) {
            into.add(command);
        }
        command.getSubcommands().values().forEach(sub -> collect(sub, into));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--version", "compare --version", "pingpong compare --version", "info --version",
            "bench --version", "stat --version"})
    void versionPrintsTheVersionAndTheCommitBakedIntoTheJar(String args) {
        CommandRun run = CommandRun.of(args.split(" "));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("unetmm " + RunRecord.buildVersion(), "commit " + RunRecord.gitCommit());
        assertThat(RunRecord.gitCommit()).as("the build wrote build.properties from git")
                .matches("[0-9a-f]{40}(-dirty)?");
    }

    @Test
    void everyCommandsHelpShowsExamples() {
        List<CommandLine> commands = commands();
        assertThat(commands).hasSizeGreaterThanOrEqualTo(12);
        for (CommandLine command : commands) {
            String name = command.getCommandSpec().qualifiedName();
            String help = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
            assertThat(help).as(name).contains("Examples");
            List<String> examples = help.substring(help.indexOf("Examples")).lines().filter(l -> l.startsWith("  unetmm "))
                    .toList();
            assertThat(examples).as(name + " --help examples").hasSizeBetween(2, 4);
            assertThat(help).as(name + " lists the exit status").contains("Exit status:", "2   a usage error");
        }
    }

    @ParameterizedTest
    @CsvSource({"64,64", "4096,4096", "4K,4096", "4KiB,4096", "4kib,4096", "1M,1048576", "1MiB,1048576", "2GB,-1",
            "1G,1073741824", "0,0", "-1,-1", "64B,64"})
    void sizesAcceptBytesAndBinaryMultiples(String text, int bytes) {
        if (text.equals("2GB")) {
            assertThatThrownBy(() -> ByteSize.parse(text)).isInstanceOf(CommandLine.TypeConversionException.class)
                    .hasMessageContaining("2 GiB or more");
        } else {
            assertThat(ByteSize.parse(text)).isEqualTo(bytes);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1.5K", "4 KB B", "K", "", "99999999999"})
    void whatIsNotASizeIsRefusedWithTheFormsASizeTakes(String text) {
        assertThatThrownBy(() -> ByteSize.parse(text)).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining(text.isEmpty() ? "is not a size" : "'" + text + "'");
    }

    /** Each: the arguments | what the one error line must say (the option and the allowed range). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "compare --sizes 0|--sizes: 0 B is out of range: 1..67108864 bytes (1 B..64 MiB)",
            "compare --sizes -4K|--sizes: -4 KiB is out of range: 1..67108864 bytes",
            "compare --sizes 128MiB|--sizes: 128 MiB is out of range: 1..67108864 bytes",
            "compare --transport udp://127.0.0.1:0 --sizes 8MiB|--sizes: 8 MiB is out of range: 1..4194304 bytes (1 B..4 MiB)",
            "compare --sizes 4KiB,abc|Invalid value for option '--sizes'",
            "compare --repeats 0|--repeats: 0 is out of range: 1..1000",
            "compare --measure-ms 0|--measure-ms: 0 is out of range: 1..600000",
            "pingpong --to udp://127.0.0.1:9 --size 65MiB|--size: 65 MiB is out of range: 0..67108864 bytes",
            "pingpong compare --repeats 0|--repeats: 0 is out of range: 1..1000",
            "pingpong compare --stream-size 64KiB|--stream-size: 64 KiB is out of range: 8..65467 bytes",
            "stream --to udp://127.0.0.1:9 --size 4|--size: 4 B is out of range: 8..67108864 bytes",
            "stream --to udp://127.0.0.1:9 --duration 0|--duration must be in (0, 86400] seconds",
            "sink --listen udp://127.0.0.1:0 --max-message 1GiB|--max-message: 1024 MiB is out of range",
            "echo --listen udp://127.0.0.1:0 --max-message 0|--max-message: 0 B is out of range"})
    void impossibleValuesAreOneLineNamingTheOptionAndTheRangeAndExit2(String args, String said) {
        CommandRun run = CommandRun.of(args.split(" "));
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        List<String> lines = run.err().lines().toList();
        assertThat(lines.get(0)).startsWith("unetmm ").contains(said);
        assertThat(lines).as("the error, then where the help is").hasSize(2);
        assertThat(lines.get(1)).startsWith("Try 'unetmm ").endsWith("--help' for the options and examples.");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void sizeOptionsTakeTheSuffixedForms() {
        CompareCommand compare = new CompareCommand();
        new CommandLine(compare).parseArgs("--sizes", "64,4KiB,1M");
        assertThat(compare.sizes).containsExactly(64, 4096, 1 << 20);
        PingPongCommand pingpong = new PingPongCommand();
        new CommandLine(pingpong).parseArgs("--size", "1KiB");
        assertThat(pingpong.size).isEqualTo(1024);
    }
}
