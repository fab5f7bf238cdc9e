/*
 * A stand-in for Windows' bcryptprimitives.dll, for running the stages
 * under Wine (.ci/windows builds it and puts it next to each .exe).
 *
 * Why: Rust's standard library asks bcryptprimitives.dll for random bytes
 * (its ProcessPrng function, which HashMap's keys come from), and Wine 8,
 * as Debian ships it, has no such DLL: every Rust .exe then fails to load
 * before main. Real Windows 10 and later have it, so this file is needed
 * under Wine only, and the .exe files themselves stay as they are.
 *
 * How: ProcessPrng on top of SystemFunction036 (RtlGenRandom), which
 * advapi32.dll exports, Wine's included. The alternative,
 * a newer Wine from WineHQ's own packages, is a bigger download and
 * another apt source to trust, for one function.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* Declared here: mingw's headers call it RtlGenRandom, through a macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Microsoft documents ProcessPrng as always returning TRUE; a failure
 * here is reported anyway, rather than handing out unfilled bytes. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        /* RtlGenRandom takes a 32-bit length. */
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
