package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's "Using it" code is the body of {@code examples.UsingIt.main}, so what the README shows is what runs. */
class ReadmeUsingItTest {
    @Test
    void theReadmesUsingItCodeIsTheBodyOfTheUsingItExample() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent(); // surefire runs in benchmarks/
        Matcher block = Pattern.compile("## Using it\\s+```java\\n(.*?)\\n```", Pattern.DOTALL)
                .matcher(Files.readString(root.resolve("README.md")));
        assertThat(block.find()).as("a java block under '## Using it' in README.md").isTrue();
        String source = Files.readString(root.resolve("benchmarks/src/main/java/org/unetmm/bench/examples/UsingIt.java"));
        Matcher body = Pattern.compile("public static void main\\(String\\[] args\\) throws Exception \\{\\n(.*?)\\n    }\\n",
                Pattern.DOTALL).matcher(source);
        assertThat(body.find()).as("UsingIt.main").isTrue();
        assertThat(unindented(body.group(1))).isEqualTo(block.group(1).lines().toList());
    }

    /** The lines with the method body's 8 spaces of indentation taken off. */
    private static List<String> unindented(String text) {
        return text.lines().map(line -> line.startsWith("        ") ? line.substring(8) : line).toList();
    }
}
