package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** What the packaged {@code unetmm.jar} ships beside the code. */
class UnetmmJarIT {
    @Test
    void theJarShipsTheSimpleSlf4jBindingSoWhatTheLibraryLogsReachesStderr() throws IOException {
        Path jar = Path.of(System.getProperty("unetmm.jar", "target/unetmm.jar"));
        try (JarFile file = new JarFile(jar.toFile())) {
            JarEntry providers = file.getJarEntry("META-INF/services/org.slf4j.spi.SLF4JServiceProvider");
            assertThat(providers).as("an SLF4J provider in " + jar).isNotNull();
            try (InputStream in = file.getInputStream(providers)) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("org.slf4j.simple.SimpleServiceProvider");
            }
        }
    }
}
