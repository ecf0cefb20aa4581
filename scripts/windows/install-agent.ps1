<#
.SYNOPSIS
    Puts the Siaga agent on a Windows meeting PC: a locked folder, a venv in it, Siaga, and then
    `siaga agent install`, which checks the permissions and registers the scheduled tasks.

.DESCRIPTION
    This script only finds Python and prepares the folder; everything else is in Python
    (agent/wininstall.py), tested on Linux with a fake schtasks and recorded ACLs:
      1. finds a Python 3.11+ installed for all users (HKLM), never one in a user's profile:
         SYSTEM will run it, so no user may be able to replace it (or give -Python);
      2. creates -InstallDir and locks it: Administrators and SYSTEM full control, Users read
         and run, nothing inherited;
      3. makes the venv there and pip-installs Siaga into it (-Wheels: offline, from a folder);
      4. runs `siaga agent install` (or `uninstall` with -Uninstall), which refuses, one line
         per problem, anything a non-administrator could change, and registers nothing then.
    Run it again at any time: it replaces the tasks. docs/agent.md, "Install on Windows".

    NOT YET RUN ON REAL WINDOWS: docs/agent.md has the checklist of what a person must try.

.EXAMPLE
    # In PowerShell as Administrator, from the repository's scripts\windows folder:
    powershell -ExecutionPolicy Bypass -File .\install-agent.ps1
    powershell -ExecutionPolicy Bypass -File .\install-agent.ps1 -ZoomUser rapat
    powershell -ExecutionPolicy Bypass -File .\install-agent.ps1 -Uninstall
#>
param(
    # The agent's folder: venv\, agent.toml, mqtt.password; locked to Administrators and SYSTEM.
    [string]$InstallDir = (Join-Path $env:ProgramData "Siaga"),
    # What to pip install: the repository (default: the one this script is in) or a wheel.
    [string]$Source = (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)),
    # A folder of wheels (pip wheel -w wheels ...) for a PC without internet.
    [string]$Wheels = "",
    # python.exe to use instead of the newest all-users Python (e.g. an embeddable Python
    # unpacked inside -InstallDir).
    [string]$Python = "",
    # The meeting account whose Zoom the wrap-up stops with Alt+R; "" = no Zoom task.
    [string]$ZoomUser = "",
    # Remove the tasks `siaga agent install` made, and nothing else.
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = "Stop"

function Fail([string]$Message) {
    Write-Host "install-agent.ps1: $Message" -ForegroundColor Red
    exit 1
}

function Find-AllUsersPython {
    # python.org's "Install for all users" registers under HKLM (PEP 514); a per-user install
    # registers under HKCU and is never taken.
    $found = @()
    foreach ($key in @(Get-ChildItem "HKLM:\SOFTWARE\Python\PythonCore" -ErrorAction SilentlyContinue)) {
        # "3.12"; not "3.12-32" (32-bit) nor "3.13t" (free-threaded)
        if ($key.PSChildName -notmatch '^\d+\.\d+$') { continue }
        $version = [version]$key.PSChildName
        if ($version -lt [version]"3.11") { continue }
        $folder = (Get-Item (Join-Path $key.PSPath "InstallPath") -ErrorAction SilentlyContinue)
        if ($null -eq $folder -or -not $folder.GetValue("")) { continue }
        $exe = Join-Path $folder.GetValue("") "python.exe"
        if (Test-Path $exe) { $found += [pscustomobject]@{ Version = $version; Exe = $exe } }
    }
    $best = $found | Sort-Object Version -Descending | Select-Object -First 1
    if ($null -eq $best) { return "" }
    return $best.Exe
}

function Lock-Folder([string]$Folder) {
    # Well-known SIDs, not names: "Users" is "Pengguna" on some Windows.
    & icacls.exe $Folder /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" `
        "*S-1-5-32-545:(OI)(CI)RX" /T /C /Q | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "icacls could not lock $Folder" }
}

$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail "run it in a PowerShell opened as Administrator"
}
$venvPython = Join-Path $InstallDir "venv\Scripts\python.exe"

if ($Uninstall) {
    if (-not (Test-Path $venvPython)) { Fail "$venvPython not found: nothing was installed there" }
    & $venvPython -I -m siaga agent uninstall --venv (Join-Path $InstallDir "venv")
    exit $LASTEXITCODE
}

if (-not $Python) { $Python = Find-AllUsersPython }
if (-not $Python) {
    Fail ("no Python 3.11+ installed for all users: install it from python.org with " +
          "`"Install Python for all users`" ticked (and tcl/tk), or give -Python")
}
Write-Host "Python: $Python"

New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
Lock-Folder $InstallDir
if (-not (Test-Path $venvPython)) {
    & $Python -m venv (Join-Path $InstallDir "venv")
    if ($LASTEXITCODE -ne 0) { Fail "python -m venv failed" }
}
$pipArgs = @("-I", "-m", "pip", "install", "--upgrade")
if ($Wheels) { $pipArgs += @("--no-index", "--find-links", $Wheels, "siaga") } else { $pipArgs += $Source }
& $venvPython @pipArgs
if ($LASTEXITCODE -ne 0) { Fail "pip install failed (see above)" }

$config = Join-Path $InstallDir "agent.toml"
if (-not (Test-Path $config)) {
    Copy-Item (Join-Path $Source "firmware_config\agent.toml") $config
    Fail "$config was missing: the example is there now; set site.id, mqtt.host and agent.pc_id, then run this again"
}
$installArgs = @("-I", "-m", "siaga", "agent", "install", "--venv", (Join-Path $InstallDir "venv"))
if ($ZoomUser) {
    Copy-Item (Join-Path $PSScriptRoot "zoom-stop-recording.ps1") (Join-Path $InstallDir "zoom-stop-recording.ps1") -Force
    $installArgs += @("--zoom-user", $ZoomUser)
}
Lock-Folder $InstallDir   # again: pip and the copies wrote new files
& $venvPython @installArgs
exit $LASTEXITCODE
