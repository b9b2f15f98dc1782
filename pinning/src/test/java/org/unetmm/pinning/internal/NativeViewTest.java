package org.unetmm.pinning.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.unetmm.pinning.NativeMemory;

class NativeViewTest {
    @Test
    void aViewReadsExactlyTheRangeItIsPointedAtAndIsReusedNotReallocated() {
        assertThat(NativeView.available()).as("this JDK exposes a direct buffer's address").isTrue();
        ByteBuffer memory = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < memory.capacity(); i++) {
            memory.put(i, (byte) (i * 7));
        }
        long base = NativeMemory.address(memory);
        NativeView view = new NativeView();
        ByteBuffer first = view.over(base + 100, 50);
        assertThat(first.position()).isZero();
        assertThat(first.remaining()).isEqualTo(50);
        assertThat(first.get(0)).isEqualTo((byte) 700);
        assertThat(first.get(49)).isEqualTo((byte) (149 * 7));
        first.position(10); // a reader moves the cursors; the next range starts clean
        ByteBuffer second = view.over(base + 4000, 96);
        assertThat(second).isSameAs(first);
        assertThat(second.position()).isZero();
        assertThat(second.limit()).isEqualTo(96);
        assertThat(second.get(95)).isEqualTo((byte) (4095 * 7));
        assertThat(memory.position()).as("the memory's own buffer is not touched").isZero();
    }
}
