/* minimal_fcgi.c: the ceiling for the benchmarks: a libfcgi prefork
 * program that answers every request with a constant JSON body, doing no
 * other work. Built and started by the bench scripts.
 *   minimal_fcgi SOCKET_PATH WORKERS */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char minimal_body[] =
    "{\"error\":{\"code\":\"sold_out\",\"message\":\"Sorry, these tickets are sold out.\"}}";

static void minimal_serve(int fd)
{
    FCGX_Request req;
    FCGX_InitRequest(&req, fd, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_FPrintF(req.out, "Status: 409 Conflict\r\nContent-Type: application/json\r\n\r\n%s",
                     minimal_body);
        FCGX_Finish_r(&req);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: minimal_fcgi SOCKET_PATH WORKERS\n");
        return 2;
    }
    long workers = strtol(argv[2], NULL, 10);
    FCGX_Init();
    unlink(argv[1]);
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0)
        return 1;
    chmod(argv[1], 0666);
    for (long i = 0; i < workers; i++) {
        if (fork() == 0) {
            minimal_serve(fd);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
