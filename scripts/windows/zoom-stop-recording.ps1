<#
.SYNOPSIS
    Stops Zoom's local recording: brings the Zoom meeting window forward and presses Alt+R once.

.DESCRIPTION
    Run in the meeting user's session (install-agent.ps1 -ZoomUser registers it as the task
    "\Siaga\Zoom stop recording", which the agent's wrapup_command starts). Alt+R TOGGLES the
    local recording: if none runs, it starts one. So it presses only when a Zoom meeting window
    exists, and says what it did; it cannot see whether Zoom records (Zoom offers no interface
    for that). Limits: docs/agent.md, "Zoom and Teams". UNTESTED ON REAL WINDOWS.
#>
param(
    # Window titles of Zoom's meeting window, English and Indonesian Zoom.
    [string[]]$Titles = @("Zoom Meeting", "Rapat Zoom", "Zoom Workplace")
)

$shell = New-Object -ComObject WScript.Shell
foreach ($title in $Titles) {
    if ($shell.AppActivate($title)) {
        Start-Sleep -Milliseconds 400     # let the window take the focus before the keys
        $shell.SendKeys("%r")
        Write-Output "Alt+R sent to the window '$title'"
        exit 0
    }
}
Write-Output "no Zoom meeting window ($($Titles -join ', ')): nothing pressed"
exit 1
