package org.unetmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The house rules of mm-core, checked on its sources: the engine under {@code org.unetmm.internal}
 * never names a public handle (it reports through interfaces the handles implement, so calls run
 * downwards only), and no file grows past what a reader can hold (500 lines).
 */
class EngineLayoutTest {
    private static final Path MAIN = Path.of("src/main/java/org/unetmm");
    private static final Pattern HANDLE = Pattern.compile(
            "^import org\\.unetmm\\.(Nic|Endpoint|Channel|Completion|CompletionHandler|CompletionFutures|Upcalls|NicExperiments);",
            Pattern.MULTILINE);

    private static List<Path> sources(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    @Test
    void theEngineNeverImportsAPublicHandle() throws IOException {
        List<Path> engine = sources(MAIN.resolve("internal"));
        assertThat(engine).isNotEmpty();
        for (Path file : engine) {
            String text = Files.readString(file);
            assertThat(HANDLE.matcher(text).find()).as(file + " imports a public handle").isFalse();
        }
    }

    @Test
    void noMainSourceFileIsLongerThan500Lines() throws IOException {
        for (Path file : sources(MAIN)) {
            assertThat(Files.readAllLines(file).size()).as(file + ": lines").isLessThanOrEqualTo(500);
        }
    }
}
